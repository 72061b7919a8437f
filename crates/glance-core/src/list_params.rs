//! `GET /v2/images`: query parameters parsed into a database query with upstream's
//! rules and 400s (spec §5).

use glance_auth::RequestContext;
use glance_db::{
    CmpOp, Column, Condition, ImageListQuery, ListResult, ListVisibility, SortDir, SqlValue,
    VisibilityScope,
};
use glance_domain::{Image, MemberStatus};

use crate::access::partial_image_target;
use crate::{CoreError, CoreResult, Glance};

pub(crate) mod values;

use values::{operator_values, parse_time_filter};

/// One page of a listing.
#[derive(Debug)]
pub struct ListPage {
    pub images: Vec<Image>,
    /// Marker for the `next` link: present iff the page is full (upstream's rule).
    pub next_marker: Option<String>,
}

/// The sort keys upstream accepts (v1 and v2 alike), in the order its errors list them.
pub(crate) const SORT_KEYS: &[&str] = &[
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
];
/// Parameters that are not filters, or filters handled before the others. `deleted` is
/// overwritten by upstream's controller, so it never filters.
const NOT_FILTERS: &[&str] = &[
    "limit",
    "marker",
    "member_status",
    "tag",
    "sort",
    "sort_key",
    "sort_dir",
    "visibility",
    "changes-since",
    "os_hidden",
    "protected",
    "deleted",
];
/// Columns filtered by exact value (with the `in:` / `eq:` operators).
const EXACT_COLUMNS: &[&str] = &["name", "id", "status", "container_format", "disk_format"];
/// Other image columns: exact match.
const TEXT_COLUMNS: &[&str] = &["owner", "checksum", "os_hash_value", "os_hash_algo"];
const INT_COLUMNS: &[&str] = &["min_ram", "min_disk", "size", "virtual_size"];
const RANGE_COLUMNS: &[&str] = &["size", "virtual_size", "min_ram", "min_disk"];

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::BadRequest(msg.into())
}

impl Glance {
    /// Drops the images the `get_image` rule refuses the caller (upstream's policy
    /// layer over every listing, v2 and v1).
    pub(crate) fn keep_readable(&self, ctx: &RequestContext, images: &mut Vec<Image>) {
        let keys = self.policy.target_keys("get_image");
        let checker = self.policy.checker(ctx);
        images.retain(|image| checker.check("get_image", &partial_image_target(ctx, image, keys)));
    }
}

impl Glance {
    pub async fn list_images(
        &self,
        ctx: &RequestContext,
        params: &[(String, String)],
    ) -> CoreResult<ListPage> {
        let query = build_query(
            ctx,
            params,
            self.settings.limit_param_default,
            self.settings.api_limit_max,
        )?;
        let limit = query.limit;
        let marker = query.marker.clone().unwrap_or_default();
        self.enforce_global(ctx, "get_images")?;
        match self.db.list_images(&query).await? {
            ListResult::MarkerNotFound => Err(bad(format!("No image found with ID {marker}"))),
            ListResult::MarkerNotVisible => Err(CoreError::Forbidden(format!(
                "Forbidding request, image {marker} not visible"
            ))),
            ListResult::Page(mut images) => {
                // The next marker follows the database's page, before the policy
                // filter below shortens it (as upstream).
                let full_page = limit > 0 && images.len() as u64 == limit;
                self.keep_readable(ctx, &mut images);
                for image in &mut images {
                    self.order_locations(image);
                    self.shape_for_caller(ctx, image);
                }
                let next_marker = full_page
                    .then(|| images.last().map(|i| i.id.clone()))
                    .flatten();
                Ok(ListPage {
                    images,
                    next_marker,
                })
            }
        }
    }
}

/// Builds the query, validating in upstream's order: visibility and changes-since,
/// member_status, limit, sorting, then the filters.
pub(crate) fn build_query(
    ctx: &RequestContext,
    params: &[(String, String)],
    default_limit: u64,
    max_limit: u64,
) -> CoreResult<ImageListQuery> {
    // Upstream reads single-valued parameters from a MultiDict: the last one wins.
    let get = |k: &str| {
        params
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };

    let mut never = false;
    let visibility = match get("visibility") {
        None => None,
        // An empty value skips validation and then matches no image (as upstream).
        Some("") => {
            never = true;
            None
        }
        Some(v) => Some(match v {
            "public" => ListVisibility::Public,
            "private" => ListVisibility::Private,
            "shared" => ListVisibility::Shared,
            "community" => ListVisibility::Community,
            "all" => ListVisibility::All,
            other => return Err(bad(format!("Invalid visibility value: {other}"))),
        }),
    };
    if get("changes-since").is_some_and(|v| !v.is_empty()) {
        return Err(bad(
            "The \"changes-since\" filter is no longer available on v2.",
        ));
    }
    let member_status = match get("member_status").unwrap_or("accepted") {
        "all" => None,
        s => Some(
            s.parse::<MemberStatus>()
                .map_err(|_| bad(format!("Invalid status: {s}")))?,
        ),
    };
    let limit = match get("limit") {
        None => default_limit,
        Some(v) => {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| bad("limit param must be an integer"))?;
            if n < 0 {
                return Err(bad("limit param must be positive"));
            }
            n as u64
        }
    }
    .min(max_limit);
    let sort = sort_order(params)?;

    let hidden = match get("os_hidden") {
        None => false,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(bad(format!(
                "Invalid value '{}' for 'os_hidden' filter. Valid values are 'true' or 'false'.",
                v.to_ascii_lowercase()
            )))
            }
        },
    };
    let mut conditions = vec![Condition::In(
        Column::OsHidden,
        vec![SqlValue::Bool(hidden)],
    )];
    if let Some(v) = get("protected") {
        if v != "true" && v != "false" {
            return Err(bad(format!(
                "Invalid value '{v}' for 'protected' filter. Valid values are 'true' or 'false'."
            )));
        }
        conditions.push(Condition::In(
            Column::Protected,
            vec![SqlValue::Bool(v == "true")],
        ));
    }
    for (key, value) in params {
        let key = key.as_str();
        if NOT_FILTERS.contains(&key) {
            continue;
        }
        match filter_condition(key, value)? {
            Some(c) => conditions.push(c),
            None => never = true,
        }
    }
    for (_, tag) in params.iter().filter(|(n, _)| n == "tag") {
        conditions.push(Condition::Tag(tag.trim().to_string()));
    }
    if never {
        conditions.push(Condition::Never);
    }

    Ok(ImageListQuery {
        scope: VisibilityScope {
            is_admin: ctx.is_admin,
            project: ctx.project_id.clone(),
            visibility,
            member_status,
        },
        conditions,
        sort,
        marker: get("marker").map(String::from),
        limit,
    })
}

/// One filter parameter as a condition; `None` when it can match no image (a
/// non-numeric value for an integer column, which upstream compares and never finds).
fn filter_condition(key: &str, value: &str) -> CoreResult<Option<Condition>> {
    if key == "created_at" || key == "updated_at" {
        let column = Column::from_name(key).expect("known column");
        let (op, time) = parse_time_filter(key, value)?;
        return Ok(Some(Condition::Cmp(column, op, SqlValue::Time(time))));
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
            return Ok(Some(Condition::Cmp(
                Column::from_name(base).expect("known column"),
                op,
                SqlValue::Int(n),
            )));
        }
    }
    if EXACT_COLUMNS.contains(&key) {
        let column = Column::from_name(key).expect("known column");
        let values = operator_values(value)?
            .into_iter()
            .map(SqlValue::Text)
            .collect();
        return Ok(Some(Condition::In(column, values)));
    }
    if INT_COLUMNS.contains(&key) {
        let column = Column::from_name(key).expect("known column");
        return Ok(value
            .trim()
            .parse()
            .ok()
            .map(|n| Condition::In(column, vec![SqlValue::Int(n)])));
    }
    if TEXT_COLUMNS.contains(&key) {
        let column = Column::from_name(key).expect("known column");
        return Ok(Some(Condition::In(
            column,
            vec![SqlValue::Text(value.to_string())],
        )));
    }
    Ok(Some(Condition::Property {
        name: key.to_string(),
        values: vec![value.to_string()],
    }))
}

fn sort_order(params: &[(String, String)]) -> CoreResult<Vec<(Column, SortDir)>> {
    let keys: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "sort_key")
        .map(|(_, v)| v.as_str())
        .collect();
    let dirs: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "sort_dir")
        .map(|(_, v)| v.as_str())
        .collect();
    let new_syntax: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "sort")
        .map(|(_, v)| v.as_str())
        .collect();
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
                "Invalid sort key: {k}. It must be one of the following: {}.",
                SORT_KEYS.join(", ")
            )))
        }
    };
    let mut order = Vec::new();
    let mut default_dir = SortDir::Desc;
    // Upstream pops the first `sort` parameter.
    if let Some(spec) = new_syntax.first() {
        for part in spec.trim().split(',') {
            let (k, d) = part.split_once(':').unwrap_or((part, ""));
            let key = parse_key(k)?;
            let dir = if d.is_empty() {
                SortDir::Desc
            } else {
                parse_dir(d)?
            };
            order.push((key, dir));
        }
        if order.len() == 1 {
            default_dir = order[0].1;
        }
    } else {
        let parsed_keys: Vec<Column> = keys
            .iter()
            .map(|k| parse_key(k))
            .collect::<CoreResult<_>>()?;
        let parsed_dirs: Vec<SortDir> = dirs
            .iter()
            .map(|d| parse_dir(d))
            .collect::<CoreResult<_>>()?;
        if parsed_dirs.len() > 1 && parsed_dirs.len() != parsed_keys.len() {
            return Err(bad(
                "Number of sort dirs does not match the number of sort keys",
            ));
        }
        if parsed_dirs.len() == 1 {
            default_dir = parsed_dirs[0];
        }
        for (i, key) in parsed_keys.into_iter().enumerate() {
            let d = if parsed_dirs.len() > 1 {
                parsed_dirs[i]
            } else {
                default_dir
            };
            order.push((key, d));
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
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
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
        let s = sort_order(&params(&[
            ("sort_key", "name"),
            ("sort_key", "size"),
            ("sort_dir", "asc"),
        ]))
        .unwrap();
        assert_eq!(s[1], (Column::Size, SortDir::Asc));
        assert_eq!(s[2], (Column::CreatedAt, SortDir::Asc));
        assert!(sort_order(&params(&[("sort", "name"), ("sort_key", "size")])).is_err());
        assert!(sort_order(&params(&[("sort_key", "bogus")])).is_err());
        assert!(sort_order(&params(&[("sort_key", "name"), ("sort_dir", "up")])).is_err());
        assert!(sort_order(&params(&[
            ("sort_key", "a"),
            ("sort_dir", "asc"),
            ("sort_dir", "desc")
        ]))
        .is_err());
    }
}
