//! `index` and `details`: filters from `field=value` arguments, pages of `--limit`
//! images with a prompt between them unless `--force`.

use glance_client::{ImageMeta, ListOptions};

use super::format::{image_block, index_header, index_row};
use super::{fields_from_args, Session, FAILURE, SUCCESS};

/// Filters the API knows by name; any other field filters on a property.
const FILTERS: &[&str] = &[
    "name",
    "disk_format",
    "container_format",
    "status",
    "min_ram",
    "min_disk",
    "size_min",
    "size_max",
];

fn list_options(session: &Session, args: &[String]) -> Result<ListOptions, String> {
    let filters = fields_from_args(args)?
        .into_iter()
        .map(|(k, v)| {
            if FILTERS.contains(&k.as_str()) {
                (k, v)
            } else {
                (format!("property-{k}"), v)
            }
        })
        .collect();
    let o = &session.options;
    Ok(ListOptions {
        filters,
        limit: Some(o.limit),
        marker: o.marker.clone(),
        sort_key: o.sort_key.clone(),
        sort_dir: o.sort_dir.clone(),
    })
}

/// Pages through a listing, printing each page with `print`; `first` is called once,
/// before the first non-empty page.
async fn paged<F, P>(
    session: &Session,
    args: &[String],
    action: &str,
    detailed: bool,
    first: F,
    print: P,
) -> i32
where
    F: Fn() -> String,
    P: Fn(&ImageMeta) -> String,
{
    let mut options = match list_options(session, args) {
        Ok(o) => o,
        Err(e) => {
            session.line(&e);
            return FAILURE;
        }
    };
    let limit = session.options.limit;
    let mut started = false;
    loop {
        let page = if detailed {
            session.client.get_images_detailed(&options).await
        } else {
            session.client.get_images(&options).await
        };
        let page = match page {
            Ok(page) => page,
            Err(e) => return session.failed(action, &e),
        };
        if page.is_empty() {
            return SUCCESS;
        }
        if !started {
            session.say(&first());
            started = true;
        }
        let text: String = page.iter().map(&print).collect();
        session.say(&text);
        if (page.len() as u64) < limit || limit == 0 {
            return SUCCESS;
        }
        if !session.options.force && !session.confirm("Fetch next page?", true) {
            return SUCCESS;
        }
        options.marker = page.last().and_then(ImageMeta::id);
    }
}

pub async fn index(session: &Session, args: Vec<String>) -> i32 {
    paged(session, &args, "show index", false, index_header, index_row).await
}

pub async fn details(session: &Session, args: Vec<String>) -> i32 {
    let rule = "=".repeat(80);
    let host = session.options.host.clone();
    paged(
        session,
        &args,
        "show details",
        true,
        || format!("{rule}\n"),
        |image| format!("{}{rule}\n", image_block(&host, image)),
    )
    .await
}
