//! The legacy Image API v1 (Queens behaviour, UUID ids) on the same database, stores
//! and policy as v2. Metadata arrives as headers ([`V1Meta`]); images are the same
//! rows v2 serves, with `is_public` standing for `visibility == public`.
//!
//! Where upstream registered an image first and only then refused the request (two
//! image sources, missing formats, a wrong Content-Type), every check here runs before
//! anything is written, so a refused request leaves nothing behind. A failed upload
//! leaves the image `queued`, as v2 does, where upstream v1 marked it `killed`
//! (docs/COMPATIBILITY.md).

mod create;
mod list;
mod members;
mod read;
mod update;

use bytes::Bytes;
use futures_util::Stream;
use glance_auth::RequestContext;
use glance_domain::v1_meta::V1Meta;
use glance_domain::{Image, ImageStatus, Visibility};

pub use list::V1ListParams;
pub use members::{can_share_from_body, memberships_from_body, V1Membership, V1SharedImage};
pub use update::V1UpdateOptions;

use crate::{CoreError, CoreResult, Glance, UploadRequest};

/// Image data sent with a v1 create or update.
pub struct V1Body<S> {
    pub stream: S,
    /// `Content-Length` when the body had one (None for chunked bodies).
    pub content_length: Option<u64>,
    /// Whether `Content-Type` was `application/octet-stream`.
    pub octet_stream: bool,
}

/// Whether a request's image data was sent as `application/octet-stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OctetStream(pub bool);

impl<S> V1Body<S> {
    pub(crate) fn octet(&self) -> OctetStream {
        OctetStream(self.octet_stream)
    }
}

pub(crate) fn v1_not_found(id: &str) -> CoreError {
    CoreError::NotFound(format!("Image with identifier {id} not found"))
}

impl Glance {
    /// The image as v1 sees it: any status, 404 worded as v1 when invisible.
    pub(crate) async fn v1_find(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        self.find_image(ctx, id).await.map_err(|e| match e {
            CoreError::NotFound(_) => v1_not_found(id),
            other => other,
        })
    }

    /// Metadata checks common to create and update: header values, formats, and the
    /// size cap when the size is known up front (400, as upstream, where a stream that
    /// outgrows the cap later is 413).
    fn v1_check_meta<S>(&self, meta: &mut V1Meta, body: Option<&V1Body<S>>) -> CoreResult<()> {
        let formats = &self.settings.image_format;
        meta.validate(&formats.disk_formats, &formats.container_formats)
            .map_err(CoreError::BadRequest)?;
        let known_size = body
            .and_then(|b| b.content_length.filter(|n| *n > 0))
            .or(meta.size.map(|s| s as u64));
        let limited_later = body.is_some() && known_size.is_none();
        if !limited_later && known_size.is_some_and(|s| s > self.settings.image_size_cap) {
            return Err(CoreError::BadRequest(format!(
                "Denying attempt to upload image larger than {} bytes.",
                self.settings.image_size_cap
            )));
        }
        Ok(())
    }

    /// Streams a v1 body into the image (which must be queued with both formats set)
    /// through the same upload path as `PUT /v2/images/{id}/file`.
    async fn v1_upload<S, E>(
        &self,
        ctx: &RequestContext,
        id: &str,
        meta: &V1Meta,
        body: V1Body<S>,
    ) -> CoreResult<()>
    where
        S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let request = UploadRequest {
            // The supplied size must match what arrives; zero means "unknown".
            expected_size: meta
                .size
                .map(|s| s as u64)
                .filter(|s| *s > 0)
                .or(body.content_length.filter(|n| *n > 0)),
            store: meta.text("store").map(str::to_string),
            expected_checksum: meta.text("checksum").map(str::to_string),
        };
        self.upload(ctx, id, request, body.stream).await
    }

    /// Property protections, with v1's refusal.
    pub(crate) fn v1_require_property(
        &self,
        ctx: &RequestContext,
        key: &str,
        op: glance_auth::protections::PropertyOp,
    ) -> CoreResult<()> {
        if self.property_allowed(ctx, key, op) {
            return Ok(());
        }
        Err(CoreError::Forbidden(format!(
            "Property '{key}' is protected"
        )))
    }

    /// Re-reads an image after a change, shaped for the caller.
    pub(crate) async fn v1_reload(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        let mut image = self
            .db
            .get_image(id)
            .await?
            .ok_or_else(|| v1_not_found(id))?;
        self.shape_for_caller(ctx, &mut image);
        Ok(image)
    }
}

/// What v1's `is_public` (and the registry's) makes of an image's visibility: true
/// is public; false makes a public image shared and leaves a private, shared or
/// community one as it is.
pub(crate) fn visibility_for(is_public: bool, current: Visibility) -> Visibility {
    match (is_public, current) {
        (true, _) => Visibility::Public,
        (false, Visibility::Public) => Visibility::Shared,
        (false, other) => other,
    }
}

/// Whether the image has data a v1 download can serve.
pub(crate) fn require_active(image: &Image) -> CoreResult<()> {
    match image.status {
        ImageStatus::Active => Ok(()),
        ImageStatus::Deactivated => Err(CoreError::Forbidden(format!(
            "Image {} is deactivated",
            image.id
        ))),
        _ => Err(CoreError::NotFound(format!(
            "Image {} is not active",
            image.id
        ))),
    }
}
