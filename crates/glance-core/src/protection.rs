//! Property protections (`property_protection_file`) applied to the use cases.
//!
//! Rules, as upstream applies them to additional properties (never to base
//! attributes): a property the caller may not `read` is left out of every
//! response and behaves as absent in a PATCH; creating, changing or deleting one
//! needs `create`, `update` or `delete`, else 403 "Attribute '<key>' is
//! reserved." Unlike upstream, a PATCH never drops the hidden properties of the
//! image (upstream saves the read-filtered copy and so deletes them), and a
//! property the caller may create but not read is stored (upstream loses it).

use glance_auth::policy::Target;
use glance_auth::protections::PropertyOp;
use glance_auth::RequestContext;
use glance_domain::{Image, ImageStatus};

use crate::{CoreError, CoreResult, Glance};

impl Glance {
    /// Whether `ctx` may do `op` on the additional property `key`.
    pub(crate) fn property_allowed(&self, ctx: &RequestContext, key: &str, op: PropertyOp) -> bool {
        let Some(protections) = &self.protections else {
            return true;
        };
        // `policies` format: the named rule, checked with an empty target.
        let policy_check = |rule: &str| self.policy.check(rule, &Target::new(), ctx);
        protections.allows(key, op, ctx, &policy_check)
    }

    pub(crate) fn require_property_op(
        &self,
        ctx: &RequestContext,
        key: &str,
        op: PropertyOp,
    ) -> CoreResult<()> {
        if self.property_allowed(ctx, key, op) {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!(
                "Attribute '{key}' is reserved."
            )))
        }
    }

    /// Whether the image has the property and the caller may read it.
    pub(crate) fn property_visible(&self, ctx: &RequestContext, image: &Image, key: &str) -> bool {
        image.properties.contains_key(key) && self.property_allowed(ctx, key, PropertyOp::Read)
    }

    /// Leaves out the properties the caller may not read (every response).
    /// The image as this caller may see it: without the properties protections hide
    /// from them, and, as upstream's `_normalize_locations`, without the locations
    /// of a deactivated image unless they are an admin (so no `direct_url` or
    /// `stores` either: the data of a deactivated image is not theirs to reach).
    pub(crate) fn shape_for_caller(&self, ctx: &RequestContext, image: &mut Image) {
        if self.protections.is_some() {
            image
                .properties
                .retain(|key, _| self.property_allowed(ctx, key, PropertyOp::Read));
        }
        if image.status == ImageStatus::Deactivated && !ctx.is_admin {
            image.locations.clear();
        }
    }
}
