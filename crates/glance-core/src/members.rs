//! Image sharing (spec §10), with upstream's order of checks and its wording.

use glance_auth::RequestContext;
use glance_db::MemberAdded;
use glance_domain::{Image, Member, MemberStatus, Visibility};
use serde_json::Value;

use crate::{quota, CoreError, CoreResult, Glance};

fn member_not_found(image_id: &str, member: &str) -> CoreError {
    CoreError::NotFound(format!(
        "{member} not found in the member list of the image {image_id}."
    ))
}

/// The member id of an add-member body: `{"member": "<project>"}`.
fn member_from_body(body: &Value) -> CoreResult<String> {
    let Some(obj) = body.as_object() else {
        return Err(CoreError::BadRequest(
            r#"Expected a member in the form: {"member": "image_id"}"#.into(),
        ));
    };
    match obj.get("member") {
        None => Err(CoreError::BadRequest(
            "Member to be added not specified".into(),
        )),
        // Upstream keeps the id as given (no trimming) and stores numbers as text.
        Some(Value::String(m)) if !m.is_empty() => Ok(m.clone()),
        Some(Value::Number(n)) if n.as_f64() != Some(0.0) => Ok(n.to_string()),
        Some(Value::Null | Value::Bool(false) | Value::String(_) | Value::Number(_)) => {
            Err(CoreError::BadRequest("Member can't be empty".into()))
        }
        Some(Value::Array(a)) if a.is_empty() => {
            Err(CoreError::BadRequest("Member can't be empty".into()))
        }
        Some(Value::Object(o)) if o.is_empty() => {
            Err(CoreError::BadRequest("Member can't be empty".into()))
        }
        Some(_) => Err(CoreError::BadRequest(
            r#"Expected a member in the form: {"member": "image_id"}"#.into(),
        )),
    }
}

/// The status of an update-member body: `{"status": "accepted"}` (its value is checked
/// later, after the access checks, as upstream).
fn status_from_body(body: &Value) -> CoreResult<Value> {
    let Some(obj) = body.as_object() else {
        return Err(CoreError::BadRequest(
            r#"Expected a status in the form: {"status": "status"}"#.into(),
        ));
    };
    obj.get("status")
        .cloned()
        .ok_or_else(|| CoreError::BadRequest("Status not specified".into()))
}

/// The owner and admins see every membership of an image; a member only its own.
pub(crate) fn visible_members(
    ctx: &RequestContext,
    image: &Image,
    members: Vec<Member>,
) -> Vec<Member> {
    if ctx.is_admin || ctx.owns(image.owner.as_deref()) {
        return members;
    }
    members
        .into_iter()
        .filter(|m| ctx.project_id.as_deref() == Some(m.member_id.as_str()))
        .collect()
}

impl Glance {
    /// The image for a member call: "Image <id> not found." when the caller cannot see it.
    async fn member_image(&self, ctx: &RequestContext, id: &str) -> CoreResult<Image> {
        self.find_image(ctx, id).await.map_err(|e| match e {
            CoreError::NotFound(_) => CoreError::NotFound(format!("Image {id} not found.")),
            other => other,
        })
    }

    /// The owner and admins see every member; a member sees only itself.
    pub async fn list_members(&self, ctx: &RequestContext, id: &str) -> CoreResult<Vec<Member>> {
        let image = self.member_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(CoreError::Forbidden(format!(
                "Not allowed to list members for image {id}: Only shared images have members."
            )));
        }
        self.image_policy(ctx, &image)
            .enforce_member_rule("get_members")
            .map_err(|e| match e {
                CoreError::Forbidden(m) => {
                    CoreError::Forbidden(format!("Not allowed to list members for image {id}: {m}"))
                }
                other => other,
            })?;
        let members = self.db.list_members(id).await?;
        Ok(visible_members(ctx, &image, members))
    }

    /// Only the owner, that member or an admin may see a membership; anyone else gets 404.
    pub async fn get_member(
        &self,
        ctx: &RequestContext,
        id: &str,
        member: &str,
    ) -> CoreResult<Member> {
        let image = self.member_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(CoreError::NotFound(
                "Only shared images have members.".into(),
            ));
        }
        // Upstream answers 404 for every refusal here, with the refusal's text.
        self.image_policy(ctx, &image)
            .enforce_member_rule("get_member")
            .map_err(|e| match e {
                CoreError::Forbidden(m) => CoreError::NotFound(m),
                other => other,
            })?;
        let allowed = ctx.is_admin
            || ctx.owns(image.owner.as_deref())
            || ctx.project_id.as_deref() == Some(member);
        if !allowed {
            return Err(member_not_found(id, member));
        }
        self.db
            .get_member(id, member)
            .await?
            .ok_or_else(|| member_not_found(id, member))
    }

    pub async fn add_member(
        &self,
        ctx: &RequestContext,
        id: &str,
        body: Value,
    ) -> CoreResult<Member> {
        let member = member_from_body(&body)?;
        let image = self.member_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(CoreError::Forbidden(format!(
                "Not allowed to create members for image {id}."
            )));
        }
        self.image_policy(ctx, &image)
            .enforce_member_rule("add_member")?;
        let max = quota(self.settings.image_member_quota);
        match self.db.add_member(id, &member, max).await? {
            MemberAdded::Added(m) => Ok(m),
            MemberAdded::AlreadyMember => {
                Err(CoreError::Conflict(format!("Member {member} is duplicated for image {id}")))
            }
            MemberAdded::QuotaExceeded { current } => Err(CoreError::TooLarge(format!(
                "Image member limit exceeded for image {id}: The limit has been exceeded on the number of \
                 allowed image members for this image. Attempted: {}, Maximum: {}:",
                current + 1,
                self.settings.image_member_quota
            ))),
        }
    }

    /// Only the member itself (or an admin) accepts or rejects a share.
    pub async fn update_member(
        &self,
        ctx: &RequestContext,
        id: &str,
        member: &str,
        body: Value,
    ) -> CoreResult<Member> {
        let requested = status_from_body(&body)?;
        let image = self.member_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(CoreError::Forbidden(format!(
                "Not allowed to update members for image {id}."
            )));
        }
        let policy = self.image_policy(ctx, &image);
        policy.enforce_member_rule("get_member")?;
        if self.db.get_member(id, member).await?.is_none() {
            return Err(member_not_found(id, member));
        }
        policy.enforce_member_rule("modify_member")?;
        let status: MemberStatus =
            requested
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    CoreError::BadRequest(
                        r#"Incorrect request: Status must be "pending", "accepted" or "rejected"."#
                            .into(),
                    )
                })?;
        self.db
            .update_member_status(id, member, status)
            .await?
            .ok_or_else(|| member_not_found(id, member))
    }

    pub async fn delete_member(
        &self,
        ctx: &RequestContext,
        id: &str,
        member: &str,
    ) -> CoreResult<()> {
        let image = self.member_image(ctx, id).await?;
        if image.visibility != Visibility::Shared {
            return Err(CoreError::Forbidden(format!(
                "Not allowed to delete members for image {id}."
            )));
        }
        let policy = self.image_policy(ctx, &image);
        policy.enforce_member_rule("get_member")?;
        if self.db.get_member(id, member).await?.is_none() {
            return Err(member_not_found(id, member));
        }
        policy.enforce_member_rule("delete_member")?;
        if !self.db.delete_member(id, member).await? {
            return Err(member_not_found(id, member));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn add_member_bodies() {
        assert_eq!(
            member_from_body(&json!({"member": " p3 "})).unwrap(),
            " p3 "
        );
        assert_eq!(member_from_body(&json!({"member": 5})).unwrap(), "5");
        let msg = |v: Value| member_from_body(&v).unwrap_err().to_string();
        assert_eq!(msg(json!({})), "Member to be added not specified");
        assert_eq!(msg(json!({"member": ""})), "Member can't be empty");
        assert_eq!(msg(json!({"member": null})), "Member can't be empty");
        assert_eq!(
            msg(json!(["x"])),
            r#"Expected a member in the form: {"member": "image_id"}"#
        );
    }
}
