//! Who may see and change an image: upstream's default rules (spec §17.1, §18) in
//! code. A later issue replaces the write checks with the oslo.policy-compatible
//! engine; the read check and the 404-versus-403 information hiding stay here.

use glance_auth::RequestContext;
use glance_domain::{Image, MemberStatus, Visibility};

use crate::{CoreError, CoreResult};

/// Whether the caller may read the image at all (else it is "not found").
pub fn can_read(ctx: &RequestContext, image: &Image, membership: Option<MemberStatus>) -> bool {
    ctx.is_admin
        || image.owner.is_none()
        || matches!(image.visibility, Visibility::Public | Visibility::Community)
        || ctx.owns(image.owner.as_deref())
        || (image.visibility == Visibility::Shared && membership.is_some())
}

/// Member role (admin implies member, as Keystone's implied roles do).
pub fn has_member_role(ctx: &RequestContext) -> bool {
    ctx.is_admin || ctx.has_role("member") || ctx.has_role("_member_")
}

/// Owner-project member or admin: modify, delete, upload, tags, members, deactivate.
pub fn can_write(ctx: &RequestContext, image: &Image) -> bool {
    ctx.is_admin || (has_member_role(ctx) && ctx.owns(image.owner.as_deref()))
}

/// Refuses a write with upstream's wording for the action.
pub fn require_write(ctx: &RequestContext, image: &Image, action: &str) -> CoreResult<()> {
    if can_write(ctx, image) {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!(
            "You are not authorized to complete {action} action."
        )))
    }
}

/// Download: admin, or member role on a project that can read the image.
pub fn can_download(ctx: &RequestContext) -> bool {
    has_member_role(ctx)
}

/// Making an image public needs admin (`publicize_image`).
pub fn require_visibility_change(
    ctx: &RequestContext,
    image_owner: Option<&str>,
    to: Visibility,
) -> CoreResult<()> {
    match to {
        Visibility::Public if !ctx.is_admin => Err(CoreError::Forbidden(
            "You are not authorized to complete publicize_image action.".into(),
        )),
        Visibility::Community
            if !(ctx.is_admin || (has_member_role(ctx) && ctx.owns(image_owner))) =>
        {
            Err(CoreError::Forbidden(
                "You are not authorized to complete communitize_image action.".into(),
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn ctx(project: &str, roles: &[&str]) -> RequestContext {
        RequestContext {
            request_id: "r".into(),
            project_id: Some(project.into()),
            user_id: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            is_admin: roles.contains(&"admin"),
            authenticated: true,
        }
    }

    fn image(owner: &str, visibility: Visibility) -> Image {
        let t = NaiveDateTime::default();
        Image {
            id: "i".into(),
            name: None,
            status: glance_domain::ImageStatus::Queued,
            visibility,
            protected: false,
            os_hidden: false,
            checksum: None,
            os_hash_algo: None,
            os_hash_value: None,
            owner: Some(owner.into()),
            size: None,
            virtual_size: None,
            min_ram: 0,
            min_disk: 0,
            disk_format: None,
            container_format: None,
            created_at: t,
            updated_at: t,
            properties: Default::default(),
            tags: vec![],
            locations: vec![],
        }
    }

    #[test]
    fn read_rules() {
        let other = ctx("b", &["member"]);
        assert!(can_read(&other, &image("a", Visibility::Public), None));
        assert!(can_read(&other, &image("a", Visibility::Community), None));
        assert!(!can_read(&other, &image("a", Visibility::Private), None));
        assert!(!can_read(&other, &image("a", Visibility::Shared), None));
        assert!(can_read(
            &other,
            &image("a", Visibility::Shared),
            Some(MemberStatus::Pending)
        ));
        assert!(!can_read(
            &other,
            &image("a", Visibility::Private),
            Some(MemberStatus::Accepted)
        ));
        assert!(can_read(
            &ctx("a", &["reader"]),
            &image("a", Visibility::Private),
            None
        ));
        assert!(can_read(
            &ctx("z", &["admin"]),
            &image("a", Visibility::Private),
            None
        ));
    }

    #[test]
    fn write_rules() {
        assert!(can_write(
            &ctx("a", &["member"]),
            &image("a", Visibility::Private)
        ));
        assert!(!can_write(
            &ctx("a", &["reader"]),
            &image("a", Visibility::Private)
        ));
        assert!(!can_write(
            &ctx("b", &["member"]),
            &image("a", Visibility::Public)
        ));
        assert!(can_write(
            &ctx("b", &["admin"]),
            &image("a", Visibility::Public)
        ));
        assert!(
            require_visibility_change(&ctx("a", &["member"]), Some("a"), Visibility::Public)
                .is_err()
        );
        assert!(require_visibility_change(
            &ctx("a", &["member"]),
            Some("a"),
            Visibility::Community
        )
        .is_ok());
        assert!(require_visibility_change(
            &ctx("b", &["member"]),
            Some("a"),
            Visibility::Community
        )
        .is_err());
    }
}
