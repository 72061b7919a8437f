//! The image commands: image-list, -show, -create, -update, -delete, -upload,
//! -download, -deactivate, -reactivate and the tag commands.

use glance_client::{ClientError, GlanceClient, ImageData};
use serde_json::{json, Map, Value};

use super::args::CommandArgs;
use super::output::{Cells, Output};
use super::progress::with_progress;
use super::{positional, Failure, Session};

/// Image keys print_image leaves out.
const HIDDEN_KEYS: &[&str] = &["self", "access", "file", "schema"];
/// Options of image-create/update whose values are not strings.
const INT_OPTIONS: &[&str] = &["min-disk", "min-ram"];
const BOOL_OPTIONS: &[&str] = &["protected", "os-hidden", "hidden"];
/// Options that are not image attributes: data sources, the import workflow's
/// settings, the output format.
const NOT_ATTRIBUTES: &[&str] = &[
    "property",
    "file",
    "store",
    "stores",
    "all-stores",
    "allow-failure",
    "remove-property",
    "tags",
    "size",
    "import-method",
    "uri",
    "remote-region",
    "remote-image-id",
    "remote-service-interface",
    "format",
    "max-column-width",
];

/// Runs `command` if it is an image command.
pub(super) async fn execute(
    session: &Session,
    command: &str,
    args: &CommandArgs,
) -> Result<Option<Output>, Failure> {
    let client = &session.client;
    Ok(Some(match command {
        "image-list" => list(session, args).await?,
        "image-show" => {
            let mut image = client
                .show_image(positional(args, 0, "<IMAGE_ID>")?)
                .await?;
            if args.flags.iter().any(|f| f == "--human-readable") {
                image["size"] = json!(human_readable(image["size"].as_u64().unwrap_or(0)));
            }
            let mut output = image_output(&image);
            if let (Output::Record { max_width, .. }, Some(width)) =
                (&mut output, args.one("max-column-width"))
            {
                *max_width = width.parse().map_err(|_| {
                    Failure::Usage(format!("invalid literal for int() with base 10: '{width}'"))
                })?;
            }
            output
        }
        "image-create" => {
            let body = attributes(args)?;
            let data = data_source(args).await?;
            require_formats(args, data.is_some())?;
            let image = client.create_image(&Value::Object(body)).await?;
            let id = image["id"].as_str().unwrap_or_default().to_string();
            match data {
                Some(data) => {
                    if let Err(e) = client.upload_image(&id, data, args.one("store")).await {
                        // glanceclient prints the new image before the error.
                        return Err(Failure::After(image_output(&image), Box::new(e.into())));
                    }
                    image_output(&client.show_image(&id).await?)
                }
                None => image_output(&image),
            }
        }
        "image-update" => update(client, args).await?,
        "image-delete" => {
            for id in &args.positional {
                client.remove_image(id).await?;
            }
            Output::Nothing
        }
        "image-upload" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            let data = data_source(args)
                .await?
                .ok_or_else(|| Failure::Usage("Must supply either --file or stdin.".into()))?;
            client.upload_image(id, data, args.one("store")).await?;
            Output::Nothing
        }
        "image-download" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            download(client, id, args.one("file")).await?;
            Output::Nothing
        }
        "image-deactivate" => {
            client
                .deactivate_image(positional(args, 0, "<IMAGE_ID>")?)
                .await?;
            Output::Nothing
        }
        "image-reactivate" => {
            client
                .reactivate_image(positional(args, 0, "<IMAGE_ID>")?)
                .await?;
            Output::Nothing
        }
        "image-tag-update" | "image-tag-delete" => {
            let id = positional(args, 0, "<IMAGE_ID>")?;
            let tag = positional(args, 1, "<TAG_VALUE>")?;
            if command == "image-tag-update" {
                client.add_tag(id, tag).await?;
            } else {
                client.delete_tag(id, tag).await?;
            }
            Output::Nothing
        }
        _ => return Ok(None),
    }))
}

async fn list(session: &Session, args: &CommandArgs) -> Result<Output, Failure> {
    let mut params: Vec<(String, String)> = Vec::new();
    let page_size = args.one("page-size").unwrap_or("20").to_string();
    params.push(("limit".into(), page_size));
    for key in [
        "visibility",
        "member-status",
        "owner",
        "checksum",
        "tag",
        "sort-key",
        "sort-dir",
        "sort",
        "os-hidden",
    ] {
        for v in args.all(key) {
            params.push((key.replace('-', "_"), v.clone()));
        }
    }
    // glanceclient's default order when no sort option is given.
    if ["sort-key", "sort-dir", "sort"]
        .iter()
        .all(|k| args.all(k).is_empty())
    {
        params.push(("sort_key".into(), "name".into()));
        params.push(("sort_dir".into(), "asc".into()));
    }
    for pair in args.all("property-filter") {
        if let Some((k, v)) = pair.split_once('=') {
            params.push((k.to_string(), v.to_string()));
        }
    }
    let limit = args.one("limit").and_then(|l| l.parse().ok());
    let images = session.client.list_images(&params, limit).await?;
    let (mut headers, mut keys) = (vec!["ID", "Name"], vec!["id", "name"]);
    if session.verbose {
        headers.extend(["Disk_format", "Container_format", "Size", "Status", "Owner"]);
        keys.extend(["disk_format", "container_format", "size", "status", "owner"]);
    }
    Ok(Output::rows(&headers, &keys, &images, Cells::Blank))
}

async fn update(client: &GlanceClient, args: &CommandArgs) -> Result<Output, Failure> {
    let id = positional(args, 0, "<IMAGE_ID>")?;
    let current = client.show_image(id).await?;
    let mut ops: Vec<Value> = Vec::new();
    for (key, value) in attributes(args)? {
        let op = if current.get(&key).is_some() {
            "replace"
        } else {
            "add"
        };
        ops.push(json!({"op": op, "path": format!("/{key}"), "value": value}));
    }
    for key in args.all("remove-property") {
        ops.push(json!({"op": "remove", "path": format!("/{key}")}));
    }
    let image = if ops.is_empty() {
        current
    } else {
        client.patch_image(id, &ops).await?
    };
    Ok(image_output(&image))
}

/// `print_image`: the image's keys but the hidden ones; the table shows an unset
/// `virtual_size` as "Not available".
pub(super) fn image_output(image: &Value) -> Output {
    let fields: Vec<(String, Value)> = image
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !HIDDEN_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let unset = |v: &Value| v.is_null() || v.as_i64() == Some(0);
    let table_values = fields
        .iter()
        .filter(|(k, v)| k == "virtual_size" && unset(v))
        .map(|(k, _)| (k.clone(), json!("Not available")))
        .collect();
    Output::Record {
        fields,
        table_values,
        max_width: 80,
    }
}

/// glanceclient's `make_size_human_readable`: 1024-based, one decimal, trailing
/// zeros dropped (`1.5MB`, `3GB`).
fn human_readable(size: u64) -> String {
    const SUFFIXES: [&str; 8] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"];
    let mut size = size as f64;
    let mut index = 0;
    while size >= 1024.0 && index + 1 < SUFFIXES.len() {
        size /= 1024.0;
        index += 1;
    }
    let padded = format!("{size:.1}");
    let stripped = padded.trim_end_matches('0').trim_end_matches('.');
    format!("{stripped}{}", SUFFIXES[index])
}

/// The image attributes and properties an image-create/update names.
pub(super) fn attributes(args: &CommandArgs) -> Result<Map<String, Value>, Failure> {
    let mut body = Map::new();
    for (option, values) in &args.options {
        if NOT_ATTRIBUTES.contains(&option.as_str()) {
            continue;
        }
        let Some(value) = values.last() else { continue };
        // glanceclient spells the os_hidden attribute `--hidden`.
        let key = match option.as_str() {
            "hidden" => "os_hidden".to_string(),
            other => other.replace('-', "_"),
        };
        let typed = if INT_OPTIONS.contains(&option.as_str()) {
            json!(value.parse::<i64>().map_err(|_| Failure::Usage(format!(
                "argument --{option}: invalid int value: '{value}'"
            )))?)
        } else if BOOL_OPTIONS.contains(&option.as_str()) {
            json!(value.eq_ignore_ascii_case("true"))
        } else {
            json!(value)
        };
        body.insert(key, typed);
    }
    if !args.all("tags").is_empty() {
        body.insert("tags".into(), json!(args.all("tags")));
    }
    for pair in args.all("property") {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            Failure::Usage(format!(
                "Arguments to --property need to be in the form key=value; got {pair}"
            ))
        })?;
        body.insert(k.to_string(), json!(v));
    }
    Ok(body)
}

/// glanceclient's `on_data_require_fields`: an image given data (`--file`, `--uri`
/// or standard input) must name its disk and container formats.
pub(super) fn require_formats(args: &CommandArgs, has_data: bool) -> Result<(), Failure> {
    let present: Vec<String> = ["file", "uri"]
        .iter()
        .filter(|o| args.one(o).is_some_and(|v| !v.is_empty()))
        .map(|o| format!("--{o}"))
        .collect();
    let missing: Vec<String> = ["disk-format", "container-format"]
        .iter()
        .filter(|o| args.one(o).is_none_or(str::is_empty))
        .map(|o| format!("--{o}"))
        .collect();
    if (present.is_empty() && !has_data) || missing.is_empty() {
        return Ok(());
    }
    let using = if present.is_empty() {
        "stdin".to_string()
    } else {
        present.join(", ")
    };
    Err(Failure::Exit(format!(
        "error: Must provide {} when using {using}.",
        missing.join(", ")
    )))
}

/// The image data of `--file` or standard input, with `--size` checked against the
/// file as glanceclient's `get_filesize` does, and the `--progress` bar.
pub(super) async fn data_source(args: &CommandArgs) -> Result<Option<ImageData>, Failure> {
    let data = match args.one("file") {
        Some(path) => Some(glance_client::file_data(std::path::Path::new(path)).await?),
        None => crate::legacy::stdin_data()
            .await
            .map_err(ClientError::from)?,
    };
    let Some(mut data) = data else {
        return Ok(None);
    };
    if let Some(size) = args.one("size") {
        let size: u64 = size
            .parse()
            .map_err(|_| Failure::Usage(format!("argument --size: invalid int value: '{size}'")))?;
        if let Some(actual) = data.size.filter(|_| args.one("file").is_some()) {
            if actual != size {
                return Err(Failure::Exit(format!(
                    "Size mismatch: provided size {size} does not match the size of the image {actual}"
                )));
            }
        }
        data.size = Some(size);
    }
    let progress = args.flags.iter().any(|f| f == "--progress");
    Ok(Some(if progress { with_progress(data) } else { data }))
}

/// Writes the image's data to `file` (or standard output), checking its MD5.
async fn download(client: &GlanceClient, id: &str, file: Option<&str>) -> Result<(), Failure> {
    use futures_util::StreamExt;
    use md5::{Digest, Md5};
    use tokio::io::AsyncWriteExt;
    let Some(mut download) = client.download_image(id).await? else {
        return Err(Failure::Exit(format!("Image {id} has no data.")));
    };
    let mut sink: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match file {
        Some(path) => Box::new(
            tokio::fs::File::create(path)
                .await
                .map_err(ClientError::from)?,
        ),
        None => Box::new(
            tokio::fs::OpenOptions::new()
                .write(true)
                .open("/dev/stdout")
                .await
                .map_err(ClientError::from)?,
        ),
    };
    let mut md5 = Md5::new();
    while let Some(chunk) = download.stream.next().await {
        let chunk = chunk.map_err(ClientError::from)?;
        md5.update(&chunk);
        sink.write_all(&chunk).await.map_err(ClientError::from)?;
    }
    sink.flush().await.map_err(ClientError::from)?;
    if let Some(expected) = download.checksum {
        let got = format!("{:x}", md5.finalize());
        if got != expected {
            return Err(Failure::Client(ClientError::Protocol(format!(
                "Corrupt image download. Checksum was {got} expected {expected}"
            ))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_glanceclient_prints_them() {
        assert_eq!(human_readable(0), "0B");
        assert_eq!(human_readable(1023), "1023B");
        assert_eq!(human_readable(1024), "1kB");
        assert_eq!(human_readable(1536), "1.5kB");
        assert_eq!(human_readable(3 * 1024 * 1024 + 5), "3MB");
        assert_eq!(human_readable(10 * 1024 * 1024 * 1024), "10GB");
    }

    #[test]
    fn unset_virtual_size_reads_not_available_in_the_table_only() {
        let out = image_output(&json!({"id": "x", "virtual_size": null, "self": "/v2/images/x"}));
        let Output::Record {
            fields,
            table_values,
            ..
        } = out
        else {
            panic!("a record");
        };
        assert_eq!(
            fields,
            vec![
                ("id".into(), json!("x")),
                ("virtual_size".into(), Value::Null)
            ]
        );
        assert_eq!(
            table_values,
            vec![("virtual_size".into(), json!("Not available"))]
        );
    }
}
