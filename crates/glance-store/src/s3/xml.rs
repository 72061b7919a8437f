//! The little XML the driver reads (an upload id, an error's code and message, the
//! keys of a listing) and writes (the part list that completes a multipart upload).
//! S3 answers are flat and machine-written, so finding elements by name is enough;
//! this is no general XML parser.

/// The raw (still escaped) content of every `<tag>` element, in document order.
/// An element written `<tag/>` yields an empty string.
pub(crate) fn blocks<'a>(doc: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut found = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        // `<Key>` must not match `<KeyMarker>`.
        let Some(next) = after.chars().next() else {
            break;
        };
        if !(next == '>' || next == '/' || next.is_ascii_whitespace()) {
            rest = after;
            continue;
        }
        let Some(head_end) = after.find('>') else {
            break;
        };
        if after[..head_end].ends_with('/') {
            found.push("");
            rest = &after[head_end + 1..];
            continue;
        }
        let body = &after[head_end + 1..];
        let Some(end) = body.find(&close) else {
            break;
        };
        found.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    found
}

/// The text of every `<tag>` element, unescaped.
#[cfg(test)]
fn texts(doc: &str, tag: &str) -> Vec<String> {
    blocks(doc, tag).into_iter().map(unescape).collect()
}

/// The text of the first `<tag>` element, unescaped.
pub(crate) fn text(doc: &str, tag: &str) -> Option<String> {
    blocks(doc, tag).first().map(|raw| unescape(raw))
}

/// Resolves the five predefined entities, numeric references and CDATA sections.
pub(crate) fn unescape(raw: &str) -> String {
    if let Some(inner) = raw
        .trim()
        .strip_prefix("<![CDATA[")
        .and_then(|s| s.strip_suffix("]]>"))
    {
        return inner.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let entity = &tail[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => numeric_reference(entity),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn numeric_reference(entity: &str) -> Option<char> {
    let number = entity.strip_prefix('#')?;
    let code = match number.strip_prefix(['x', 'X']) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => number.parse().ok()?,
    };
    char::from_u32(code)
}

/// Escapes text for an element's content.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            other => out.push(other),
        }
    }
    out
}

/// The body of CompleteMultipartUpload: `(part number, ETag)` in ascending order.
pub(crate) fn complete_multipart_body(parts: &[(u32, String)]) -> String {
    let mut body = String::from("<CompleteMultipartUpload>");
    for (number, etag) in parts {
        body.push_str(&format!(
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
            escape(etag)
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_error() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The specified key &quot;a&amp;b&quot; does not exist.</Message><Key>a&amp;b</Key><RequestId>tx1</RequestId></Error>"#;
        assert_eq!(text(doc, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(
            text(doc, "Message").as_deref(),
            Some(r#"The specified key "a&b" does not exist."#)
        );
        assert_eq!(text(doc, "Key").as_deref(), Some("a&b"));
        assert_eq!(text(doc, "HostId"), None);
    }

    #[test]
    fn reads_an_upload_id() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><Key>k</Key><UploadId>2~iCw_lDY8VoKj</UploadId>
</InitiateMultipartUploadResult>"#;
        assert_eq!(text(doc, "UploadId").as_deref(), Some("2~iCw_lDY8VoKj"));
    }

    #[test]
    fn reads_listings_without_confusing_similar_names() {
        let doc = r#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><KeyMarker></KeyMarker><NextKeyMarker>k2</NextKeyMarker><IsTruncated>false</IsTruncated><Upload><Key>k1</Key><UploadId>u1</UploadId></Upload><Upload><Key>k2</Key><UploadId>u2</UploadId></Upload><Prefix/></ListMultipartUploadsResult>"#;
        let uploads = blocks(doc, "Upload");
        assert_eq!(uploads.len(), 2);
        assert_eq!(text(uploads[1], "Key").as_deref(), Some("k2"));
        assert_eq!(texts(doc, "Key"), ["k1", "k2"]);
        assert_eq!(text(doc, "NextKeyMarker").as_deref(), Some("k2"));
        assert_eq!(text(doc, "Prefix").as_deref(), Some(""));
        assert_eq!(text(doc, "IsTruncated").as_deref(), Some("false"));
    }

    #[test]
    fn entities_and_cdata() {
        assert_eq!(unescape("a&#65;&#x42;&lt;&gt;&apos;"), "aAB<>'");
        assert_eq!(unescape("fish & chips"), "fish & chips");
        assert_eq!(unescape("&bogus;x"), "&bogus;x");
        assert_eq!(unescape("<![CDATA[a<b]]>"), "a<b");
        assert_eq!(text("<Open>unterminated", "Open"), None);
    }

    #[test]
    fn writes_the_part_list() {
        let body = complete_multipart_body(&[(1, "\"abc\"".into()), (2, "\"d&e\"".into())]);
        assert_eq!(
            body,
            "<CompleteMultipartUpload>\
             <Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>\
             <Part><PartNumber>2</PartNumber><ETag>&quot;d&amp;e&quot;</ETag></Part>\
             </CompleteMultipartUpload>"
        );
        assert_eq!(texts(&body, "ETag"), ["\"abc\"", "\"d&e\""]);
    }
}
