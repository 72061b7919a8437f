//! v1 sharing: `/v1/images/{id}/members[/{member}]` and `/v1/shared-images/{member}`.
//! v1 knows only `can_share`; memberships it creates are `pending` for v2, and v1's
//! visibility counts a membership whatever its status.

use glance_auth::RequestContext;
use glance_db::MemberAdded;
use glance_domain::{Image, Member};
use serde_json::Value;

use super::v1_not_found;
use crate::{quota, CoreError, CoreResult, Glance};

/// One entry of a members list or of a replace body.
#[derive(Debug, Clone, PartialEq)]
pub struct V1Membership {
    pub member_id: String,
    /// None in a replace body that does not say (existing members keep theirs).
    pub can_share: Option<bool>,
}

/// One entry of `/v1/shared-images/{member}`.
#[derive(Debug, Clone, PartialEq)]
pub struct V1SharedImage {
    pub image_id: String,
    pub can_share: bool,
}

/// Python's truthiness, which upstream applies to `can_share` (`"false"` is true).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `{"member": {"can_share": x}}` of an add; None when the body does not say.
pub fn can_share_from_body(body: Option<&Value>) -> Option<bool> {
    body?.get("member")?.get("can_share").map(truthy)
}

/// `{"memberships": [{"member_id": ..., "can_share": ...}, ...]}` of a replace (or the
/// bare list the seeds' client sends).
pub fn memberships_from_body(body: &Value) -> CoreResult<Vec<V1Membership>> {
    let invalid =
        |why: &str| CoreError::BadRequest(format!("Invalid membership association: {why}"));
    // The Diablo client sends a bare list; its registry client wrapped it, and a dict
    // without `memberships` as a list of one.
    let entries = match (body, body.get("memberships")) {
        (Value::Array(list), _) => list.clone(),
        (_, Some(Value::Array(list))) => list.clone(),
        (Value::Object(_), Some(Value::Null) | None) => vec![body.clone()],
        _ => return Err(invalid("'memberships'")),
    };
    entries
        .iter()
        .map(|entry| {
            let member_id = match entry.get("member_id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(invalid("'member_id'")),
            };
            Ok(V1Membership {
                member_id,
                can_share: entry.get("can_share").map(truthy),
            })
        })
        .collect()
}

impl Glance {
    /// The image for a member call: 401 without a project, 404 when invisible.
    async fn v1_member_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        if ctx.project_id.is_none() && !ctx.is_admin {
            return Err(CoreError::Unauthorized("No authenticated user".into()));
        }
        self.v1_find(ctx, id).await
    }

    /// Admins, the owner, and members allowed to share may manage memberships (v1's own
    /// rule, which stands in for v2's owner-only `modify_member`/`delete_member`
    /// policies: those would refuse the `can_share` members v1 lets in); for
    /// anyone else the image is not found, as upstream's API reports it.
    async fn v1_require_sharable(&self, ctx: &RequestContext, image: &Image) -> CoreResult<()> {
        if ctx.is_admin || ctx.owns(image.owner.as_deref()) {
            return Ok(());
        }
        let Some(project) = ctx.project_id.as_deref() else {
            return Err(v1_not_found(&image.id));
        };
        match self.db.get_member(&image.id, project).await? {
            Some(m) if m.can_share => Ok(()),
            _ => Err(CoreError::NotFound(
                "No permission to share that image".into(),
            )),
        }
    }

    fn v1_member_quota(&self, attempted: usize) -> CoreResult<()> {
        match quota(self.settings.image_member_quota) {
            Some(max) if attempted > max => Err(CoreError::TooLarge(format!(
                "The limit has been exceeded on the number of allowed image members for this \
                 image. Attempted: {attempted}, Maximum: {max}"
            ))),
            _ => Ok(()),
        }
    }

    /// The owner and admins see every member; a member sees only itself.
    pub async fn v1_members(&self, ctx: &RequestContext, id: &str) -> CoreResult<Vec<Member>> {
        let image = self.v1_find(ctx, id).await?;
        self.image_policy(ctx, &image).enforce("get_members")?;
        let members = self.db.list_members(id).await?;
        Ok(crate::members::visible_members(ctx, &image, members))
    }

    /// Adds `member`, or sets its `can_share` when the body says; an existing member
    /// without a body is left as it is.
    pub async fn v1_add_member(
        &self,
        ctx: &RequestContext,
        id: &str,
        member: &str,
        can_share: Option<bool>,
    ) -> CoreResult<()> {
        let image = self.v1_member_image(ctx, id).await?;
        self.v1_require_sharable(ctx, &image).await?;
        let current = self.db.list_members(id).await?;
        // Upstream counts the new member even when it is already one.
        self.v1_member_quota(current.len() + 1)?;
        if !current.iter().any(|m| m.member_id == member) {
            match self.db.add_member(id, member, None).await? {
                MemberAdded::Added(_) | MemberAdded::AlreadyMember => {}
                MemberAdded::QuotaExceeded { current } => self.v1_member_quota(current + 1)?,
            }
            self.db
                .set_member_can_share(id, member, can_share.unwrap_or(false))
                .await?;
        } else if let Some(can_share) = can_share {
            self.db.set_member_can_share(id, member, can_share).await?;
        }
        Ok(())
    }

    /// Makes the memberships exactly `wanted`: members not listed are removed, listed
    /// ones keep their `can_share` unless the entry gives one, new ones default to false.
    pub async fn v1_replace_members(
        &self,
        ctx: &RequestContext,
        id: &str,
        wanted: Vec<V1Membership>,
    ) -> CoreResult<()> {
        let image = self.v1_member_image(ctx, id).await?;
        self.v1_member_quota(wanted.len())?;
        self.v1_require_sharable(ctx, &image).await?;
        let current = self.db.list_members(id).await?;
        for old in &current {
            if !wanted.iter().any(|w| w.member_id == old.member_id) {
                self.db.delete_member(id, &old.member_id).await?;
            }
        }
        for entry in &wanted {
            let existing = current.iter().any(|m| m.member_id == entry.member_id);
            if !existing {
                self.db.add_member(id, &entry.member_id, None).await?;
            }
            let can_share = match (entry.can_share, existing) {
                (Some(v), _) => Some(v),
                (None, false) => Some(false),
                (None, true) => None,
            };
            if let Some(v) = can_share {
                self.db
                    .set_member_can_share(id, &entry.member_id, v)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn v1_delete_member(
        &self,
        ctx: &RequestContext,
        id: &str,
        member: &str,
    ) -> CoreResult<()> {
        let image = self.v1_member_image(ctx, id).await?;
        self.v1_require_sharable(ctx, &image).await?;
        if !self.db.delete_member(id, member).await? {
            return Err(CoreError::NotFound("Membership could not be found.".into()));
        }
        Ok(())
    }

    /// The images shared with `member` that the caller may know about: an admin sees
    /// all, others only memberships of their own images or of their own project.
    pub async fn v1_shared_images(
        &self,
        ctx: &RequestContext,
        member: &str,
    ) -> CoreResult<Vec<V1SharedImage>> {
        let memberships = self.db.memberships_of(member).await?;
        let mut shared = Vec::with_capacity(memberships.len());
        for m in memberships {
            let visible = ctx.is_admin || ctx.project_id.as_deref() == Some(member) || {
                let image = self.db.get_image(&m.image_id).await?;
                image.is_some_and(|i| ctx.owns(i.owner.as_deref()))
            };
            if visible {
                shared.push(V1SharedImage {
                    image_id: m.image_id,
                    can_share: m.can_share,
                });
            }
        }
        Ok(shared)
    }
}
