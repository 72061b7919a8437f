//! Object and container operations: HEAD, delete (with the segments of a large
//! object), segment listings and container creation.

use hyper::{Method, StatusCode};

use super::account::{status_error, Account, Target};
use super::auth::drain;
use super::location::{encode_path, percent_decode};
use crate::remote::read_small_body;
use crate::StoreError;

/// A container listing page is at most 10,000 names of up to 1 KiB, as JSON.
const MAX_LISTING_ANSWER: usize = 32 << 20;

/// What a HEAD tells about an object.
#[derive(Debug)]
pub(crate) struct ObjectHead {
    pub size: u64,
    /// `X-Object-Manifest` (a dynamic large object): `container/prefix`, decoded.
    pub dlo_manifest: Option<String>,
    /// `X-Static-Large-Object: True`.
    pub slo: bool,
}

fn header<'r>(response: &'r crate::remote::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// HEAD of an object; a missing one is `NotFound`.
pub(crate) async fn head(account: &Account, target: Target<'_>) -> Result<ObjectHead, StoreError> {
    let response = account.call(Method::HEAD, target, "", &[], None).await?;
    if !response.status().is_success() {
        return Err(status_error(response, target, "HEAD").await);
    }
    let size = header(&response, "content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            StoreError::Backend(format!("swift sent no size for {}", target.describe()))
        })?;
    // Written URL-encoded by most clients, bare by upstream; both decode the same
    // unless a name holds a bare '%'.
    let dlo_manifest = header(&response, "x-object-manifest")
        .map(|v| percent_decode(v).unwrap_or_else(|| v.to_string()));
    let slo = header(&response, "x-static-large-object")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    Ok(ObjectHead {
        size,
        dlo_manifest,
        slo,
    })
}

/// Whether an object exists (no error for a missing one).
pub(crate) async fn exists(account: &Account, target: Target<'_>) -> Result<bool, StoreError> {
    match head(account, target).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// DELETE of one object or container; `Ok(false)` when it was not there.
pub(crate) async fn delete_one(
    account: &Account,
    target: Target<'_>,
    query: &str,
) -> Result<bool, StoreError> {
    let response = account
        .call(Method::DELETE, target, query, &[], None)
        .await?;
    match response.status() {
        status if status.is_success() => {
            drain(response).await;
            Ok(true)
        }
        StatusCode::NOT_FOUND => {
            drain(response).await;
            Ok(false)
        }
        _ => Err(status_error(response, target, "DELETE").await),
    }
}

/// Deletes an image object as upstream's `BaseStore.delete` does: a static large
/// object with `?multipart-manifest=delete`, a dynamic one segment by segment (found
/// through its `X-Object-Manifest`) and then its manifest, a plain object directly.
pub(crate) async fn delete_image_object(
    account: &Account,
    target: Target<'_>,
) -> Result<(), StoreError> {
    let head = head(account, target).await?;
    if head.slo {
        return match delete_one(account, target, "multipart-manifest=delete").await? {
            true => Ok(()),
            false => Err(StoreError::NotFound(format!(
                "swift object {}",
                target.describe()
            ))),
        };
    }
    if let Some(manifest) = &head.dlo_manifest {
        delete_segments(account, manifest).await?;
    }
    match delete_one(account, target, "").await? {
        true => Ok(()),
        false => Err(StoreError::NotFound(format!(
            "swift object {}",
            target.describe()
        ))),
    }
}

/// Removes every object named by a DLO manifest value (`container/prefix`). Segments
/// go first, so a failure leaves the manifest to find the rest on a retry.
async fn delete_segments(account: &Account, manifest: &str) -> Result<(), StoreError> {
    let Some((container, prefix)) = manifest.split_once('/') else {
        return Ok(());
    };
    // An empty prefix would name the whole container: never ours to delete.
    if container.is_empty() || prefix.is_empty() {
        tracing::warn!(
            manifest,
            "not deleting the segments of a manifest with no prefix"
        );
        return Ok(());
    }
    for name in list_prefix(account, container, prefix).await? {
        delete_one(account, Target::object(container, &name), "").await?;
    }
    Ok(())
}

/// The names in `container` that start with `prefix`, every page of the listing.
pub(crate) async fn list_prefix(
    account: &Account,
    container: &str,
    prefix: &str,
) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    let mut marker = String::new();
    loop {
        let query = format!(
            "format=json&prefix={}&marker={}",
            encode_path(prefix, false),
            encode_path(&marker, false)
        );
        let target = Target::container(container);
        let response = account.call(Method::GET, target, &query, &[], None).await?;
        match response.status() {
            StatusCode::NOT_FOUND => {
                drain(response).await;
                return Ok(names);
            }
            status if status.is_success() => {}
            _ => return Err(status_error(response, target, "list").await),
        }
        let body = read_small_body(response, MAX_LISTING_ANSWER).await?;
        // 204 No Content carries an empty body: the listing is empty.
        let page: Vec<serde_json::Value> = if body.is_empty() {
            Vec::new()
        } else {
            serde_json::from_slice(&body).map_err(|_| {
                StoreError::Backend(format!("swift sent a bad listing of {container}"))
            })?
        };
        let before = names.len();
        names.extend(
            page.iter()
                .filter_map(|entry| entry["name"].as_str().map(str::to_string)),
        );
        match names.last() {
            Some(last) if names.len() > before => marker = last.clone(),
            _ => return Ok(names),
        }
    }
}

/// Makes sure `container` exists (`_create_container_if_missing`): creates it with
/// `headers` when `create` is set, otherwise a missing container is an error.
pub(crate) async fn ensure_container(
    account: &Account,
    container: &str,
    create: bool,
    headers: &[(&str, &str)],
) -> Result<(), StoreError> {
    let target = Target::container(container);
    let response = account.call(Method::HEAD, target, "", &[], None).await?;
    match response.status() {
        status if status.is_success() => {
            drain(response).await;
            return Ok(());
        }
        StatusCode::NOT_FOUND => drain(response).await,
        _ => return Err(status_error(response, target, "HEAD").await),
    }
    if !create {
        return Err(StoreError::Backend(format!(
            "the container {container} does not exist in Swift; set \
             swift_store_create_container_on_put to create it automatically"
        )));
    }
    tracing::info!(container, "creating swift container");
    let response = account.call(Method::PUT, target, "", headers, None).await?;
    if response.status().is_success() {
        drain(response).await;
        Ok(())
    } else {
        Err(status_error(response, target, "PUT").await)
    }
}
