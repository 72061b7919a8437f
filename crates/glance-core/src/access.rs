//! Who may see and change an image, in upstream's two layers:
//!
//! 1. Visibility ([`can_read`]): which images exist at all for a caller (upstream's
//!    database layer). An invisible image is "not found", whatever the policy says.
//! 2. Policy ([`ImagePolicy`]): the oslo.policy rules (`get_image`, `modify_image`,
//!    `publicize_image`, ...) checked against the image as upstream's `ImageTarget`
//!    presents it, with upstream's information hiding: a refused action on an image
//!    the caller may not `get_image` is 404, not 403.

use glance_auth::policy::{Enforcer, Target, TargetValue};
use glance_auth::RequestContext;
use glance_domain::{Image, MemberStatus, Visibility};

use crate::{CoreError, CoreResult, Glance};

/// WebOb's text for a 404 raised without an explanation (upstream's policy hiding).
pub(crate) const HIDDEN: &str = "The resource could not be found.";

/// Whether the image exists for the caller (upstream's `is_image_visible`).
pub fn can_read(ctx: &RequestContext, image: &Image, membership: Option<MemberStatus>) -> bool {
    ctx.is_admin
        || image.owner.is_none()
        || matches!(image.visibility, Visibility::Public | Visibility::Community)
        || ctx.owns(image.owner.as_deref())
        || (image.visibility == Visibility::Shared && membership.is_some())
}

/// The base attributes a rule can read from an image target, as upstream's
/// `ImageTarget` exposes them (`project_id` and `owner` are the owner,
/// `member_id` and `member` the caller's project on a shared image it reaches as
/// a member). Any other key is an extra property.
#[cfg(test)]
const IMAGE_TARGET_KEYS: &[&str] = &[
    "id",
    "image_id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "project_id",
    "member",
    "member_id",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
];

/// One key of the image target; None when the image has no such attribute or
/// property (a check reading it then fails, as in oslo).
fn image_target_value(ctx: &RequestContext, image: &Image, key: &str) -> Option<TargetValue> {
    let opt = |v: &Option<String>| v.as_deref().map_or(TargetValue::Null, TargetValue::from);
    let num = |v: Option<i64>| v.map_or(TargetValue::Null, TargetValue::Int);
    Some(match key {
        "id" | "image_id" => TargetValue::from(image.id.as_str()),
        "name" => opt(&image.name),
        "status" => TargetValue::from(image.status.as_str()),
        "visibility" => TargetValue::from(image.visibility.as_str()),
        "protected" => TargetValue::Bool(image.protected),
        "os_hidden" => TargetValue::Bool(image.os_hidden),
        "owner" | "project_id" => opt(&image.owner),
        "member" | "member_id" => {
            let member =
                image.visibility == Visibility::Shared && !ctx.owns(image.owner.as_deref());
            opt(&member.then(|| ctx.project_id.clone()).flatten())
        }
        "checksum" => opt(&image.checksum),
        "os_hash_algo" => opt(&image.os_hash_algo),
        "os_hash_value" => opt(&image.os_hash_value),
        "size" => num(image.size),
        "virtual_size" => num(image.virtual_size),
        "min_disk" => TargetValue::Int(image.min_disk),
        "min_ram" => TargetValue::Int(image.min_ram),
        "disk_format" => opt(&image.disk_format),
        "container_format" => opt(&image.container_format),
        property => TargetValue::from(image.properties.get(property)?.as_str()),
    })
}

/// The whole image as policy rules see it: extra properties under their own
/// names, base attributes over them (a property cannot pose as the owner).
/// Requests build only the keys a rule reads ([`partial_image_target`]); the
/// tests compare the two.
#[cfg(test)]
fn image_target(ctx: &RequestContext, image: &Image) -> Target {
    let keys: Vec<String> = image
        .properties
        .keys()
        .cloned()
        .chain(IMAGE_TARGET_KEYS.iter().map(|k| k.to_string()))
        .collect();
    partial_image_target(ctx, image, &keys)
}

/// Only the given keys of the image target: enough for a rule whose
/// [`Enforcer::target_keys`] they are, and much cheaper over a list of images.
pub fn partial_image_target(ctx: &RequestContext, image: &Image, keys: &[String]) -> Target {
    keys.iter()
        .filter_map(|key| Some((key.clone(), image_target_value(ctx, image, key)?)))
        .collect()
}

/// What the rules are checked against.
enum Subject<'a> {
    /// An existing image: each check builds the keys its rule reads.
    Image(&'a Image),
    /// An image only proposed by a create: nothing to hide then.
    Proposed(Target),
}

/// The policy checks of one image (or of an image about to be created).
pub struct ImagePolicy<'a> {
    enforcer: &'a Enforcer,
    ctx: &'a RequestContext,
    subject: Subject<'a>,
}

impl<'a> ImagePolicy<'a> {
    pub fn new(enforcer: &'a Enforcer, ctx: &'a RequestContext, image: &'a Image) -> Self {
        ImagePolicy {
            enforcer,
            ctx,
            subject: Subject::Image(image),
        }
    }

    /// For `add_image`: the proposed owner (default the caller's project) and visibility.
    pub fn proposed(
        enforcer: &'a Enforcer,
        ctx: &'a RequestContext,
        owner: Option<&str>,
        visibility: Visibility,
    ) -> Self {
        let owner = owner
            .map(String::from)
            .or_else(|| ctx.project_id.clone())
            .map_or(TargetValue::Null, TargetValue::from);
        let target = Target::new()
            .set("project_id", owner.clone())
            .set("owner", owner)
            .set("visibility", visibility.as_str());
        ImagePolicy {
            enforcer,
            ctx,
            subject: Subject::Proposed(target),
        }
    }

    /// The rule's verdict; the refusal carries upstream's message.
    fn decide(&self, rule: &str) -> Result<(), glance_auth::policy::PolicyDenied> {
        match &self.subject {
            Subject::Image(image) => {
                let target = partial_image_target(self.ctx, image, self.enforcer.target_keys(rule));
                self.enforcer.enforce(rule, &target, self.ctx)
            }
            Subject::Proposed(target) => self.enforcer.enforce(rule, target, self.ctx),
        }
    }

    pub fn check(&self, rule: &str) -> bool {
        self.decide(rule).is_ok()
    }

    /// 403 with upstream's message, or 404 when the caller may not even see the image.
    pub fn enforce(&self, rule: &str) -> CoreResult<()> {
        let exists = matches!(self.subject, Subject::Image(_));
        match self.decide(rule) {
            Ok(()) => Ok(()),
            Err(_) if exists && (rule == "get_image" || !self.check("get_image")) => {
                Err(CoreError::NotFound(HIDDEN.into()))
            }
            Err(denied) => Err(CoreError::Forbidden(denied.to_string())),
        }
    }

    /// `publicize_image` / `communitize_image` for a visibility change (no hiding:
    /// upstream enforces these directly).
    pub fn enforce_visibility(&self, to: Visibility) -> CoreResult<()> {
        let rule = match to {
            Visibility::Public => "publicize_image",
            Visibility::Community => "communitize_image",
            _ => return Ok(()),
        };
        self.decide(rule)
            .map_err(|denied| CoreError::Forbidden(denied.to_string()))
    }

    /// The member-API form: `get_image` first (404 when refused), then the rule.
    pub fn enforce_member_rule(&self, rule: &str) -> CoreResult<()> {
        self.enforce("get_image")?;
        self.decide(rule)
            .map_err(|denied| CoreError::Forbidden(denied.to_string()))
    }
}

impl Glance {
    pub(crate) fn image_policy<'a>(
        &'a self,
        ctx: &'a RequestContext,
        image: &'a Image,
    ) -> ImagePolicy<'a> {
        ImagePolicy::new(&self.policy, ctx, image)
    }

    /// A check that is not about one image (`get_images`, `stores_info_detail`, ...),
    /// with the caller's project as the target's `project_id`.
    pub fn enforce_global(&self, ctx: &RequestContext, rule: &str) -> CoreResult<()> {
        let project = ctx
            .project_id
            .as_deref()
            .map_or(TargetValue::Null, TargetValue::from);
        let target = Target::new().set("project_id", project);
        self.policy
            .enforce(rule, &target, ctx)
            .map_err(|denied| CoreError::Forbidden(denied.to_string()))
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
            roles: roles.iter().map(|r| r.to_string()).collect(),
            is_admin: roles.contains(&"admin"),
            authenticated: true,
            ..Default::default()
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
            properties: [("project_id".to_string(), "spoof".to_string())].into(),
            tags: vec![],
            locations: vec![],
        }
    }

    #[test]
    fn a_partial_target_decides_as_the_whole_one() {
        let enforcer = Enforcer::with_defaults();
        let keys = enforcer.target_keys("get_image");
        let callers = [
            ctx("a", &["reader"]),
            ctx("b", &["member", "reader"]),
            ctx("b", &[]),
            ctx("z", &["admin"]),
        ];
        for visibility in [
            Visibility::Private,
            Visibility::Shared,
            Visibility::Public,
            Visibility::Community,
        ] {
            let img = image("a", visibility);
            for c in &callers {
                let partial = partial_image_target(c, &img, keys);
                assert_eq!(
                    enforcer.checker(c).check("get_image", &partial),
                    enforcer.check("get_image", &image_target(c, &img), c),
                    "{visibility:?} {:?}",
                    c.roles
                );
            }
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
            &ctx("z", &["admin"]),
            &image("a", Visibility::Private),
            None
        ));
    }

    #[test]
    fn default_rules_through_the_image_target() {
        let enforcer = Enforcer::with_defaults();
        let owner_member = ctx("a", &["member", "reader"]);
        let owner_reader = ctx("a", &["reader"]);
        let other = ctx("b", &["member", "reader"]);
        let img = image("a", Visibility::Private);
        let pol = |c| ImagePolicy::new(&enforcer, c, &img);
        assert!(pol(&owner_member).enforce("modify_image").is_ok());
        // A reader of the owner sees the image: 403, not 404.
        assert!(matches!(
            pol(&owner_reader).enforce("modify_image"),
            Err(CoreError::Forbidden(m)) if m == "You are not authorized to complete modify_image action."
        ));
        // Another project cannot get_image a private image: 404.
        assert!(matches!(
            pol(&other).enforce("delete_image"),
            Err(CoreError::NotFound(_))
        ));
        // A property named project_id cannot impersonate the owner.
        assert!(pol(&other).enforce("modify_image").is_err());
        // Shared: the member may modify its membership, the owner may not.
        let shared = image("a", Visibility::Shared);
        assert!(ImagePolicy::new(&enforcer, &other, &shared)
            .enforce_member_rule("modify_member")
            .is_ok());
        assert!(ImagePolicy::new(&enforcer, &owner_member, &shared)
            .enforce_member_rule("modify_member")
            .is_err());
        // Only admins publicize; the owner's members communitize.
        let p = ImagePolicy::new(&enforcer, &owner_member, &img);
        assert!(p.enforce_visibility(Visibility::Public).is_err());
        assert!(p.enforce_visibility(Visibility::Community).is_ok());
        let new = ImagePolicy::proposed(&enforcer, &owner_member, Some("b"), Visibility::Shared);
        assert!(new.enforce("add_image").is_err());
        let new = ImagePolicy::proposed(&enforcer, &owner_member, None, Visibility::Shared);
        assert!(new.enforce("add_image").is_ok());
    }
}
