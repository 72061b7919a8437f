//! `GET /v2/images`: query parameters parsed into a database query with upstream's
//! rules and 400s (spec §5).

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use glance_auth::RequestContext;
use glance_db::{
    CmpOp, Column, Condition, ImageListQuery, ListResult, ListVisibility, SortDir, SqlValue, VisibilityScope,
};
use glance_domain::{Image, MemberStatus};

use crate::{CoreError, CoreResult, Glance};

/// One page of a listing.
#[derive(Debug)]
pub struct ListPage {
    pub images: Vec<Image>,
    /// Marker for the `next` link: present iff the page is full (upstream's rule).
    pub next_marker: Option<String>,
}

const SORT_KEYS: &[&str] = &[
    "name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at",
];
const NOT_FILTERS: &[&str] = &["limit", "marker", "member_status", "tag", "sort", "sort_key", "sort_dir"];
/// Columns filtered by exact value (with the `in:` / `eq:` operators).
const EXACT_COLUMNS: &[&str] = &["name", "id", "status", "container_format", "disk_format"];
const PLAIN_COLUMNS: &[&str] = &["owner", "checksum", "os_hash_value", "os_hash_algo", "min_ram", "min_disk"];
const RANGE_COLUMNS: &[&str] = &["size", "virtual_size", "min_ram", "min_disk"];

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::BadRequest(msg.into())
}

impl Glance {
    pub async fn list_images(&self, ctx: &RequestContext, params: &[(String, String)]) -> CoreResult<ListPage> {
        let query = build_query(ctx, params, self.settings.limit_param_default, self.settings.api_limit_max)?;
        let limit = query.limit;
        match self.db.list_images(&query).await? {
            ListResult::MarkerNotFound => Err(bad("Invalid marker. Image could not be found.")),
            ListResult::Page(images) => {
                let next_marker = (limit > 0 && images.len() as u64 == limit)
                    .then(|| images.last().map(|i| i.id.clone()))
                    .flatten();
                Ok(ListPage { images, next_marker })
            }
        }
    }
}

pub(crate) fn build_query(
    ctx: &RequestContext,
    params: &[(String, String)],
    default_limit: u64,
    max_limit: u64,
) -> CoreResult<ImageListQuery> {
    let get = |k: &str| params.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str());

    let limit = match get("limit") {
        None => default_limit,
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| bad("limit param must be an integer"))?;
            if n < 0 {
                return Err(bad("limit param must be positive"));
            }
            n as u64
        }
    }
    .min(max_limit);

    let member_status = match get("member_status").unwrap_or("accepted") {
        "all" => None,
        s => Some(s.parse::<MemberStatus>().map_err(|_| bad(format!("Invalid status: {s}")))?),
    };
    let visibility = match get("visibility") {
        None => None,
        Some(v) => Some(match v {
            "public" => ListVisibility::Public,
            "private" => ListVisibility::Private,
            "shared" => ListVisibility::Shared,
            "community" => ListVisibility::Community,
            "all" => ListVisibility::All,
            other => return Err(bad(format!("Invalid visibility value: {other}"))),
        }),
    };

    let mut conditions = Vec::new();
    let mut hidden_filter = false;
    for (key, value) in params {
        let key = key.as_str();
        if NOT_FILTERS.contains(&key) || key == "visibility" {
            continue;
        }
        if key == "changes-since" {
            return Err(bad("The \"changes-since\" filter is no longer available on v2."));
        }
        conditions.push(filter_condition(key, value, &mut hidden_filter)?);
    }
    if !hidden_filter {
        conditions.push(Condition::In(Column::OsHidden, vec![SqlValue::Bool(false)]));
    }
    for (_, tag) in params.iter().filter(|(n, _)| n == "tag") {
        conditions.push(Condition::Tag(tag.clone()));
    }

    Ok(ImageListQuery {
        scope: VisibilityScope {
            is_admin: ctx.is_admin,
            project: ctx.project_id.clone(),
            visibility,
            member_status,
        },
        conditions,
        sort: sort_order(params)?,
        marker: get("marker").map(String::from),
        limit,
    })
}

fn filter_condition(key: &str, value: &str, hidden_filter: &mut bool) -> CoreResult<Condition> {
    if key == "protected" {
        return match value {
            "true" | "false" => Ok(Condition::In(Column::Protected, vec![SqlValue::Bool(value == "true")])),
            _ => Err(bad(format!(
                "Invalid value '{value}' for 'protected' filter. Valid values are 'true' or 'false'."
            ))),
        };
    }
    if key == "os_hidden" {
        *hidden_filter = true;
        return match value.to_ascii_lowercase().as_str() {
            v @ ("true" | "false") => Ok(Condition::In(Column::OsHidden, vec![SqlValue::Bool(v == "true")])),
            _ => Err(bad(format!(
                "Invalid value '{value}' for 'os_hidden' filter. Valid values are 'true' or 'false'."
            ))),
        };
    }
    if key == "created_at" || key == "updated_at" {
        let column = Column::from_name(key).expect("known column");
        let (op, time) = parse_time_filter(value)?;
        return Ok(Condition::Cmp(column, op, SqlValue::Time(time)));
    }
    if let Some((base, op)) = key
        .strip_suffix("_min")
        .map(|b| (b, CmpOp::Gte))
        .or_else(|| key.strip_suffix("_max").map(|b| (b, CmpOp::Lte)))
    {
        if RANGE_COLUMNS.contains(&base) {
            let n: i64 = value
                .trim()
                .parse()
                .map_err(|_| bad("Unable to filter on a range with a non-numeric value."))?;
            return Ok(Condition::Cmp(Column::from_name(base).expect("known column"), op, SqlValue::Int(n)));
        }
    }
    if EXACT_COLUMNS.contains(&key) {
        let column = Column::from_name(key).expect("known column");
        return Ok(Condition::In(column, operator_values(value)?.into_iter().map(SqlValue::Text).collect()));
    }
    if PLAIN_COLUMNS.contains(&key) {
        let column = Column::from_name(key).expect("known column");
        let v = if matches!(key, "min_ram" | "min_disk") {
            SqlValue::Int(value.trim().parse().map_err(|_| bad(format!("Invalid value for {key}: {value}")))?)
        } else {
            SqlValue::Text(value.to_string())
        };
        return Ok(Condition::In(column, vec![v]));
    }
    Ok(Condition::Property { name: key.to_string(), values: vec![value.to_string()] })
}

/// `in:a,b` / `eq:a` / `a`; any other `op:` prefix is an error.
fn operator_values(value: &str) -> CoreResult<Vec<String>> {
    match value.split_once(':') {
        None => Ok(vec![value.to_string()]),
        Some(("in", rest)) => split_in_list(rest),
        Some(("eq", rest)) => Ok(vec![rest.to_string()]),
        Some((op, _)) => Err(bad(format!("Unable to filter by unknown operator '{op}'."))),
    }
}

/// Splits an `in:` list on commas; items holding commas are double-quoted.
fn split_in_list(list: &str) -> CoreResult<Vec<String>> {
    let invalid = || bad(format!("Invalid filter value {list}. The quote is not closed."));
    let mut items = Vec::new();
    let mut rest = list;
    loop {
        if let Some(stripped) = rest.strip_prefix('"') {
            let end = stripped.find('"').ok_or_else(invalid)?;
            items.push(stripped[..end].to_string());
            rest = &stripped[end + 1..];
            if rest.is_empty() {
                break;
            }
            rest = rest.strip_prefix(',').ok_or_else(|| {
                bad(format!("Invalid filter value {list}. There is no comma after closing quotation mark."))
            })?;
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let item = &rest[..end];
            if item.contains('"') {
                return Err(bad(format!(
                    "Invalid filter value {list}. There is no comma before opening quotation mark."
                )));
            }
            items.push(item.to_string());
            if end == rest.len() {
                break;
            }
            rest = &rest[end + 1..];
        }
    }
    Ok(items)
}

fn parse_time_filter(value: &str) -> CoreResult<(CmpOp, NaiveDateTime)> {
    let ops = [
        ("gt", CmpOp::Gt),
        ("gte", CmpOp::Gte),
        ("lt", CmpOp::Lt),
        ("lte", CmpOp::Lte),
        ("eq", CmpOp::Eq),
        ("neq", CmpOp::Neq),
    ];
    if let Some((prefix, rest)) = value.split_once(':') {
        if let Some((_, op)) = ops.iter().find(|(name, _)| *name == prefix) {
            return Ok((*op, parse_iso_time(rest)?));
        }
        if let Ok(t) = parse_iso_time(value) {
            return Ok((CmpOp::Eq, t));
        }
        return Err(bad(format!("Invalid operator {prefix} in time filter")));
    }
    Ok((CmpOp::Eq, parse_iso_time(value)?))
}

/// ISO 8601 in the forms clients send; values without a zone are UTC.
pub(crate) fn parse_iso_time(s: &str) -> CoreResult<NaiveDateTime> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Ok(t.naive_utc());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    }
    Err(bad(format!("Invalid time format for {s}.")))
}

fn sort_order(params: &[(String, String)]) -> CoreResult<Vec<(Column, SortDir)>> {
    let keys: Vec<&str> = params.iter().filter(|(k, _)| k == "sort_key").map(|(_, v)| v.as_str()).collect();
    let dirs: Vec<&str> = params.iter().filter(|(k, _)| k == "sort_dir").map(|(_, v)| v.as_str()).collect();
    let new_syntax: Vec<&str> = params.iter().filter(|(k, _)| k == "sort").map(|(_, v)| v.as_str()).collect();
    if !new_syntax.is_empty() && (!keys.is_empty() || !dirs.is_empty()) {
        return Err(bad("Old and new sorting syntax cannot be combined"));
    }
    let parse_dir = |d: &str| match d.trim() {
        "asc" => Ok(SortDir::Asc),
        "desc" => Ok(SortDir::Desc),
        other => Err(bad(format!("Invalid sort direction: {other}"))),
    };
    let parse_key = |k: &str| {
        let k = k.trim();
        if SORT_KEYS.contains(&k) {
            Ok(Column::from_name(k).expect("sortable column"))
        } else {
            Err(bad(format!(
                "Invalid sort key: {k}. It should be one of the following: {}.",
                SORT_KEYS.join(", ")
            )))
        }
    };
    let mut order = Vec::new();
    let mut default_dir = SortDir::Desc;
    if let Some(spec) = new_syntax.last() {
        for part in spec.split(',') {
            let (k, d) = match part.split_once(':') {
                Some((k, d)) => (k, parse_dir(d)?),
                None => (part, SortDir::Desc),
            };
            order.push((parse_key(k)?, d));
        }
    } else {
        if dirs.len() > 1 && dirs.len() != keys.len() {
            return Err(bad("Number of sort dirs does not match the number of sort keys"));
        }
        let parsed_dirs: Vec<SortDir> = dirs.iter().map(|d| parse_dir(d)).collect::<CoreResult<_>>()?;
        if parsed_dirs.len() == 1 {
            default_dir = parsed_dirs[0];
        }
        for (i, k) in keys.iter().enumerate() {
            let d = if parsed_dirs.len() > 1 { parsed_dirs[i] } else { default_dir };
            order.push((parse_key(k)?, d));
        }
    }
    for tie_breaker in [Column::CreatedAt, Column::Id] {
        if !order.iter().any(|(c, _)| *c == tie_breaker) {
            order.push((tie_breaker, default_dir));
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn in_lists() {
        assert_eq!(split_in_list("a,b").unwrap(), vec!["a", "b"]);
        assert_eq!(split_in_list("\"glass, darkly\",share me").unwrap(), vec!["glass, darkly", "share me"]);
        assert!(split_in_list("\"open,b").is_err());
        assert!(split_in_list("a\"b\",c").is_err());
        assert!(split_in_list("\"a\"b,c").is_err());
    }

    #[test]
    fn sorting() {
        let s = sort_order(&params(&[("sort", "name:asc,size")])).unwrap();
        assert_eq!(
            s,
            vec![
                (Column::Name, SortDir::Asc),
                (Column::Size, SortDir::Desc),
                (Column::CreatedAt, SortDir::Desc),
                (Column::Id, SortDir::Desc)
            ]
        );
        let s = sort_order(&params(&[("sort_key", "name"), ("sort_key", "size"), ("sort_dir", "asc")])).unwrap();
        assert_eq!(s[1], (Column::Size, SortDir::Asc));
        assert_eq!(s[2], (Column::CreatedAt, SortDir::Asc));
        assert!(sort_order(&params(&[("sort", "name"), ("sort_key", "size")])).is_err());
        assert!(sort_order(&params(&[("sort_key", "bogus")])).is_err());
        assert!(sort_order(&params(&[("sort_key", "name"), ("sort_dir", "up")])).is_err());
        assert!(sort_order(&params(&[("sort_key", "a"), ("sort_dir", "asc"), ("sort_dir", "desc")])).is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_filter("gt:2026-01-02T03:04:05Z").unwrap().0, CmpOp::Gt);
        assert_eq!(parse_time_filter("2026-01-02T03:04:05Z").unwrap().0, CmpOp::Eq);
        assert_eq!(
            parse_time_filter("lte:2026-01-02T03:04:05+01:00").unwrap().1.to_string(),
            "2026-01-02 02:04:05"
        );
        assert!(parse_time_filter("xx:2026-01-02").is_err());
        assert!(parse_time_filter("gt:notatime").is_err());
    }
}
