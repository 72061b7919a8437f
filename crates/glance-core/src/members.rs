//! Image sharing (spec §10).

use glance_auth::RequestContext;
use glance_db::MemberAdded;
use glance_domain::{Image, Member, MemberStatus, Visibility};
use serde_json::Value;

use crate::access::{can_write, has_member_role};
use crate::{quota, CoreError, CoreResult, Glance};

fn only_shared() -> CoreError {
    CoreError::Forbidden("Only shared images have members.".into())
}

fn member_not_found(image_id: &str, member: &str) -> CoreError {
    CoreError::NotFound(format!("{member} is not a member of image {image_id}"))
}

impl Glance {
    async fn shared_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        let image = self.get_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(only_shared());
        }
        Ok(image)
    }

    /// The owner and admins see every member; a member sees only itself.
    pub async fn list_members(&self, ctx: &RequestContext, id: &str) -> CoreResult<Vec<Member>> {
        let image = self.shared_image(ctx, id).await?;
        let members = self.db.list_members(id).await?;
        if ctx.is_admin || ctx.owns(image.owner.as_deref()) {
            return Ok(members);
        }
        Ok(members.into_iter().filter(|m| ctx.project_id.as_deref() == Some(m.member_id.as_str())).collect())
    }

    pub async fn get_member(&self, ctx: &RequestContext, id: &str, member: &str) -> CoreResult<Member> {
        let image = self.get_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(member_not_found(id, member));
        }
        let allowed = ctx.is_admin
            || ctx.owns(image.owner.as_deref())
            || ctx.project_id.as_deref() == Some(member);
        if !allowed {
            return Err(member_not_found(id, member));
        }
        self.db.get_member(id, member).await?.ok_or_else(|| member_not_found(id, member))
    }

    pub async fn add_member(&self, ctx: &RequestContext, id: &str, body: Value) -> CoreResult<Member> {
        let image = self.get_image(ctx, id).await?;
        let member = match body.as_object().and_then(|o| o.get("member")) {
            Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
            Some(_) => return Err(CoreError::BadRequest("Member to be added not specified".into())),
            None => return Err(CoreError::BadRequest("Member to be added not specified".into())),
        };
        if !can_write(ctx, &image) {
            return Err(CoreError::Forbidden("You are not authorized to complete add_member action.".into()));
        }
        if image.visibility != Visibility::Shared {
            return Err(only_shared());
        }
        match self.db.add_member(id, &member, quota(self.settings.image_member_quota)).await? {
            MemberAdded::Added(m) => Ok(m),
            MemberAdded::AlreadyMember => Err(CoreError::Conflict(format!(
                "Member {member} already associated with image {id}"
            ))),
            MemberAdded::QuotaExceeded => Err(CoreError::TooLarge(format!(
                "Maximum number of image members ({}) exceeded.",
                self.settings.image_member_quota
            ))),
        }
    }

    /// Only the member itself (or an admin) accepts or rejects a share.
    pub async fn update_member(&self, ctx: &RequestContext, id: &str, member: &str, body: Value) -> CoreResult<Member> {
        let image = self.get_image(ctx, id).await?;
        let status: MemberStatus = match body.as_object().and_then(|o| o.get("status")) {
            Some(Value::String(s)) => s.parse().map_err(|_| {
                CoreError::BadRequest(format!(
                    "Provided object does not match schema 'member': '{s}' is not one of ['pending', 'accepted', 'rejected']"
                ))
            })?,
            _ => return Err(CoreError::BadRequest("Status not specified".into())),
        };
        if image.visibility != Visibility::Shared {
            return Err(only_shared());
        }
        let is_that_member = ctx.project_id.as_deref() == Some(member) && has_member_role(ctx);
        if !(ctx.is_admin || is_that_member) {
            if self.db.get_member(id, member).await?.is_none() {
                return Err(member_not_found(id, member));
            }
            return Err(CoreError::Forbidden("You are not authorized to complete modify_member action.".into()));
        }
        self.db
            .update_member_status(id, member, status)
            .await?
            .ok_or_else(|| member_not_found(id, member))
    }

    pub async fn delete_member(&self, ctx: &RequestContext, id: &str, member: &str) -> CoreResult<()> {
        let image = self.get_image(ctx, id).await?;
        if !can_write(ctx, &image) {
            return Err(CoreError::Forbidden("You are not authorized to complete delete_member action.".into()));
        }
        if image.visibility != Visibility::Shared {
            return Err(only_shared());
        }
        if !self.db.delete_member(id, member).await? {
            return Err(member_not_found(id, member));
        }
        Ok(())
    }
}
