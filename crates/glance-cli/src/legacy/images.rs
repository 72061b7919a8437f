//! `add`, `update`, `delete`, `show` and `clear`.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use glance_client::{ClientError, ImageData, ImageMeta, ListOptions};

use super::format::{as_map, dump, image_block};
use super::{fields_from_args, seeds_bool, Session, FAILURE, SUCCESS};

/// Fields `add` refuses (the server sets them).
const ADD_DROPPED: &[&str] = &["status", "size"];
/// Fields `update` refuses, in the order the seeds report them.
const UPDATE_DROPPED: &[&str] = &[
    "created_on",
    "deleted_on",
    "deleted",
    "updated_on",
    "size",
    "status",
];
/// Core fields `update` sends as such; any other field is a property.
const UPDATE_BASE: &[&str] = &[
    "disk_format",
    "container_format",
    "name",
    "min_disk",
    "min_ram",
    "location",
    "owner",
];

/// Image data from standard input, when it brings any; a redirected file has a known
/// size, a pipe is sent chunked.
pub(crate) async fn stdin_data() -> std::io::Result<Option<ImageData>> {
    if std::io::stdin().is_terminal() || !stdin_has_data() {
        return Ok(None);
    }
    let file = tokio::fs::File::open("/dev/stdin").await?;
    let meta = file.metadata().await?;
    if meta.is_file() {
        let size = meta.len();
        let mut data = glance_client::reader_data(file);
        data.size = Some(size);
        return Ok(Some(data));
    }
    Ok(Some(glance_client::reader_data(file)))
}

fn connection_failed(session: &Session, e: &ClientError) -> i32 {
    let o = &session.options;
    session.line(&format!(
        "Failed to connect to the Glance API server {}:{}. Is the server running?",
        o.host, o.port
    ));
    if o.verbose {
        session.line(&session.error_lines(e));
    }
    FAILURE
}

pub async fn add(session: &Session, args: Vec<String>) -> i32 {
    let mut fields: BTreeMap<String, String> = match fields_from_args(&args) {
        Ok(f) => f.into_iter().collect(),
        Err(e) => {
            session.line(&e);
            return FAILURE;
        }
    };
    let Some(name) = fields.remove("name") else {
        session.line("Please specify a name for the image using name=VALUE");
        return FAILURE;
    };
    let mut meta = ImageMeta::default();
    meta.set("name", name.clone());
    meta.set(
        "is_public",
        fields.remove("is_public").is_some_and(|v| seeds_bool(&v)),
    );
    meta.set(
        "disk_format",
        fields.remove("disk_format").unwrap_or_else(|| "raw".into()),
    );
    meta.set(
        "container_format",
        fields
            .remove("container_format")
            .unwrap_or_else(|| "ovf".into()),
    );
    for field in ["min_disk", "min_ram"] {
        match fields.remove(field) {
            Some(v) => meta.set(field, v),
            None => meta.set(field, 0),
        };
    }
    for field in ADD_DROPPED {
        if fields.remove(*field).is_some() {
            session.line(&format!("Found non-settable field {field}. Removing."));
        }
    }
    // The manual's `id`: the identifier to give the image.
    if let Some(id) = fields.remove("id") {
        meta.set("id", id);
    }
    let location = fields.remove("location");
    if let Some(location) = &location {
        meta.set("location", location.clone());
        if stdin_has_data() {
            session.line("Either supply a location=LOCATION argument or supply image ");
            session.line("data via a redirect. You have supplied BOTH image data ");
            session.line("AND a location.");
            return FAILURE;
        }
    }
    meta.properties = fields;
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
        session.line("Add new image with metadata:");
        session.say(&dump(&as_map(&meta)));
        return SUCCESS;
    }
    let data = if location.is_some() {
        None
    } else {
        match stdin_data().await {
            Ok(d) => d,
            Err(e) => {
                session.line(&format!("Failed to add image. Got error:\n{e}"));
                return FAILURE;
            }
        }
    };
    match session.client.add_image(&meta, data).await {
        Ok(added) => {
            session.line(&format!(
                "Added new image with ID: {}",
                added.id().unwrap_or_default()
            ));
            if session.options.verbose {
                session.line("Returned the following metadata for the new image:");
                session.say(&dump(&as_map(&added)));
            }
            SUCCESS
        }
        Err(e @ ClientError::Connection { .. }) => connection_failed(session, &e),
        Err(e) => {
            session.line("Failed to add image. Got error:");
            session.line(&session.error_lines(&e));
            FAILURE
        }
    }
}

/// Whether standard input brings image data: a pipe, or a redirected file that is not
/// empty. A terminal, `/dev/null` or an empty file bring none (the seeds would wait for
/// the end of a terminal's input, or upload nothing).
fn stdin_has_data() -> bool {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata("/dev/stdin") {
        Ok(m) => {
            let kind = m.file_type();
            kind.is_fifo() || kind.is_socket() || (kind.is_file() && m.len() > 0)
        }
        Err(_) => false,
    }
}

pub async fn update(session: &Session, mut args: Vec<String>) -> i32 {
    if args.is_empty() {
        session.line("Please specify the ID of the image you wish to update ");
        session.line("as the first argument");
        return FAILURE;
    }
    let id = args.remove(0);
    let mut fields: BTreeMap<String, String> = match fields_from_args(&args) {
        Ok(f) => f.into_iter().collect(),
        Err(e) => {
            session.line(&e);
            return FAILURE;
        }
    };
    for field in UPDATE_DROPPED {
        if fields.remove(*field).is_some() {
            session.line(&format!("Found non-modifiable field {field}. Removing."));
        }
    }
    let mut meta = ImageMeta::default();
    for field in UPDATE_BASE {
        if let Some(v) = fields.remove(*field) {
            meta.set(field, v);
        }
    }
    if let Some(v) = fields.remove("is_public") {
        meta.set("is_public", seeds_bool(&v));
    }
    meta.properties = fields;
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
        session.line("Update existing image with metadata:");
        session.say(&dump(&as_map(&meta)));
        return SUCCESS;
    }
    // The seeds' update replaces the whole property set.
    match session.client.update_image(&id, &meta, None, true).await {
        Ok(updated) => {
            session.line(&format!("Updated image {id}"));
            if session.options.verbose {
                session.line(&format!("Updated image metadata for image {id}:"));
                session.say(&image_block(&session.options.host, &updated));
            }
            SUCCESS
        }
        Err(e) if e.is_not_found() => {
            session.line(&format!("No image with ID {id} was found"));
            FAILURE
        }
        Err(e) => {
            session.line("Failed to update image. Got error:");
            session.line(&session.error_lines(&e));
            FAILURE
        }
    }
}

pub async fn delete(session: &Session, mut args: Vec<String>) -> i32 {
    let Some(id) = args.pop() else {
        session.line("Please specify the ID of the image you wish to delete ");
        session.line("as the first argument");
        return FAILURE;
    };
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
        session.line(&format!("Delete image {id}"));
        return SUCCESS;
    }
    if !session.options.force && !session.confirm(&format!("Delete image {id}?"), false) {
        session.line(&format!("Not deleting image {id}"));
        return FAILURE;
    }
    match session.client.delete_image(&id).await {
        Ok(()) => {
            session.line(&format!("Deleted image {id}"));
            SUCCESS
        }
        Err(e) if e.is_not_found() => {
            session.line(&format!("No image with ID {id} was found"));
            FAILURE
        }
        Err(e) => {
            session.line("Failed to delete image. Got error:");
            session.line(&session.error_lines(&e));
            FAILURE
        }
    }
}

pub async fn show(session: &Session, args: Vec<String>) -> i32 {
    let Some(id) = args.first() else {
        session.line("Please specify the image identifier as the ");
        session.line("first argument. Example: ");
        session.line("$> glance-admin show 12345");
        return FAILURE;
    };
    match session.client.get_image_meta(id).await {
        Ok(meta) => {
            session.say(&image_block(&session.options.host, &meta));
            SUCCESS
        }
        Err(e) if e.is_not_found() => {
            session.line(&format!("No image with ID {id} was found"));
            FAILURE
        }
        Err(e) => {
            session.line("Failed to show image. Got error:");
            session.line(&session.error_lines(&e));
            FAILURE
        }
    }
}

/// Deletes every image the caller can list (all pages, as the manual says).
pub async fn clear(session: &Session) -> i32 {
    if !session.options.dry_run
        && !session.options.force
        && !session.confirm("Delete all images?", false)
    {
        session.line("Not deleting any images");
        return FAILURE;
    }
    let mut options = ListOptions {
        limit: Some(100),
        ..ListOptions::default()
    };
    let mut images = Vec::new();
    loop {
        let page = match session.client.get_images(&options).await {
            Ok(page) => page,
            Err(e) => return session.failed("list images", &e),
        };
        let done = (page.len() as u64) < 100;
        options.marker = page.last().and_then(ImageMeta::id);
        images.extend(page);
        if done || options.marker.is_none() {
            break;
        }
    }
    if session.options.dry_run {
        session.line("Dry run. We would have done the following:");
    }
    for image in images {
        let id = image.id().unwrap_or_default();
        let name = image.text("name").unwrap_or_else(|| "None".into());
        if session.options.dry_run {
            session.line(&format!("Delete image {id} \"{name}\""));
            continue;
        }
        if session.options.verbose {
            session.say(&format!("Deleting image {id} \"{name}\" ... "));
        }
        if let Err(e) = session.client.delete_image(&id).await {
            session.line(&format!("Failed to delete image {id}"));
            session.line(&session.error_lines(&e));
            return FAILURE;
        }
        if session.options.verbose {
            session.line("done");
        }
    }
    SUCCESS
}
