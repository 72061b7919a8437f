//! `GET /v1/images` and `/v1/images/detail`: upstream's filters, paging and sorting,
//! in SQL through the same list query as v2.

use glance_auth::RequestContext;
use glance_db::{
    CmpOp, Column, Condition, ImageListQuery, ListResult, SortDir, SqlValue, VisibilityScope,
};
use glance_domain::Image;

use crate::list_params::values::parse_iso_time;
use crate::list_params::SORT_KEYS;
use crate::{CoreError, CoreResult, Glance};

/// The query of a v1 list, as `(name, value)` pairs in request order.
pub struct V1ListParams(pub Vec<(String, String)>);

fn bad(msg: impl Into<String>) -> CoreError {
    CoreError::BadRequest(msg.into())
}

fn bad_filter(name: &str, value: &str) -> CoreError {
    bad(format!("Bad value passed to filter {name} got {value}"))
}

/// Python's `int(v) >= 0`.
fn non_negative(name: &str, value: &str) -> CoreResult<i64> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| bad_filter(name, value))
}

/// `true`/`1`, `false`/`0` or `none` (any case); None for `none`.
fn tristate(name: &str, value: &str) -> CoreResult<Option<bool>> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        "none" => Ok(None),
        _ => Err(bad_filter(name, value)),
    }
}

impl Glance {
    /// Non-admins see public images, their own, and images shared with them whatever
    /// the membership's status; `is_public` only changes what an admin sees
    /// (`none`: everything, `false`: every non-public image).
    pub async fn v1_list(
        &self,
        ctx: &RequestContext,
        params: &V1ListParams,
    ) -> CoreResult<Vec<Image>> {
        self.enforce_global(ctx, "get_images")?;
        let mut conditions = Vec::new();
        let mut admin_view: Option<Option<bool>> = None;
        let (mut limit, mut marker) = (self.settings.limit_param_default, None);
        let (mut sort_key, mut sort_dir) = (Column::CreatedAt, SortDir::Desc);
        for (name, value) in &params.0 {
            let text = |col| Condition::In(col, vec![SqlValue::Text(value.clone())]);
            match name.as_str() {
                "name" => conditions.push(text(Column::Name)),
                "status" => conditions.push(text(Column::Status)),
                "container_format" => conditions.push(text(Column::ContainerFormat)),
                "disk_format" => conditions.push(text(Column::DiskFormat)),
                "min_ram" => {
                    let v = non_negative(name, value)?;
                    conditions.push(Condition::Cmp(Column::MinRam, CmpOp::Eq, SqlValue::Int(v)));
                }
                "min_disk" => {
                    let v = value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| bad_filter(name, value))?;
                    conditions.push(Condition::Cmp(Column::MinDisk, CmpOp::Eq, SqlValue::Int(v)));
                }
                "size_min" | "size_max" => {
                    let v = non_negative(name, value)?;
                    let op = if name == "size_min" {
                        CmpOp::Gte
                    } else {
                        CmpOp::Lte
                    };
                    conditions.push(Condition::Cmp(Column::Size, op, SqlValue::Int(v)));
                }
                "is_public" => {
                    let v = tristate(name, value)?;
                    if ctx.is_admin {
                        admin_view = Some(v);
                    }
                }
                "protected" => match tristate(name, value)? {
                    Some(v) => conditions.push(Condition::Cmp(
                        Column::Protected,
                        CmpOp::Eq,
                        SqlValue::Bool(v),
                    )),
                    None => return Err(bad("protected must be True, or False")),
                },
                "changes-since" => {
                    let since = parse_iso_time(value)
                        .map_err(|_| bad("Unrecognized changes-since value"))?;
                    conditions.push(Condition::Cmp(
                        Column::UpdatedAt,
                        CmpOp::Gt,
                        SqlValue::Time(since),
                    ));
                }
                "limit" => {
                    let v = value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| bad("limit param must be an integer"))?;
                    if v < 0 {
                        return Err(bad("limit param must be positive"));
                    }
                    limit = v as u64;
                }
                "marker" => marker = Some(value.clone()),
                "sort_key" => {
                    sort_key = SORT_KEYS
                        .contains(&value.as_str())
                        .then(|| Column::from_name(value))
                        .flatten()
                        .ok_or_else(|| {
                            bad(format!(
                                "Unsupported sort_key. Acceptable values: {}",
                                SORT_KEYS.join(", ")
                            ))
                        })?;
                }
                "sort_dir" => {
                    sort_dir = match value.as_str() {
                        "asc" => SortDir::Asc,
                        "desc" => SortDir::Desc,
                        _ => return Err(bad("Unsupported sort_dir. Acceptable values: asc, desc")),
                    }
                }
                other => {
                    if let Some(prop) = other.strip_prefix("property-") {
                        conditions.push(Condition::Property {
                            name: prop.to_string(),
                            values: vec![value.clone()],
                        });
                    }
                }
            }
        }
        if let Some(m) = &marker {
            if uuid::Uuid::parse_str(m).is_err() {
                return Err(bad("Invalid marker format"));
            }
        }
        let scope = match admin_view {
            // An admin asking for `is_public=none` or `false` sees every project's images.
            Some(None) | Some(Some(false)) => VisibilityScope {
                is_admin: true,
                project: ctx.project_id.clone(),
                visibility: None,
                member_status: None,
            },
            // Everyone else, admins by default too, sees what a user of the project sees.
            _ => VisibilityScope {
                is_admin: false,
                project: ctx.project_id.clone(),
                visibility: None,
                member_status: None,
            },
        };
        if admin_view == Some(Some(false)) {
            conditions.push(Condition::Cmp(
                Column::Visibility,
                CmpOp::Neq,
                SqlValue::Text("public".into()),
            ));
        }
        let mut sort = vec![(sort_key, sort_dir)];
        for tie in [Column::CreatedAt, Column::Id] {
            if tie != sort_key {
                sort.push((tie, sort_dir));
            }
        }
        let query = ImageListQuery {
            scope,
            conditions,
            sort,
            marker,
            limit: limit.min(self.settings.api_limit_max),
        };
        match self.db.list_images(&query).await? {
            ListResult::Page(mut images) => {
                self.keep_readable(ctx, &mut images);
                for image in &mut images {
                    self.shape_for_caller(ctx, image);
                }
                Ok(images)
            }
            ListResult::MarkerNotFound | ListResult::MarkerNotVisible => {
                Err(bad("Invalid marker. Image could not be found."))
            }
        }
    }
}
