//! Builds the identity layer, the policy enforcer and the property protections
//! from the settings. Every problem is a startup error naming the option or the
//! file and line, as the service must not run with a policy it misread.

use std::sync::Arc;

use anyhow::{bail, Context};
use glance_auth::keystone::{KeystoneAuth, KeystoneConfig};
use glance_auth::policy::{Enforcer, PolicyOptions};
use glance_auth::protections::{PropertyProtections, RuleFormat};
use glance_auth::{AuthMode, Authenticator, Flavor};
use glance_config::{KeystoneAuthtokenSettings, Settings};

/// The policy rules: upstream's defaults, overridden by `[oslo_policy] policy_file`
/// and the files of `policy_dirs`.
pub fn load_policy(settings: &Settings) -> anyhow::Result<Enforcer> {
    let p = &settings.oslo_policy;
    let file = p.resolve_file(&settings.config_dirs);
    // Only a policy file named explicitly (not upstream's default name) must exist.
    let named = p.policy_file != "policy.yaml";
    if named && file.is_none() {
        bail!(
            "[oslo_policy] policy_file: {} not found (looked in the config directories and /etc/glance)",
            p.policy_file
        );
    }
    let opts = PolicyOptions {
        policy_file: file,
        policy_file_required: named,
        policy_dirs: p.resolve_dirs(&settings.config_dirs),
        enforce_scope: p.enforce_scope,
        enforce_new_defaults: p.enforce_new_defaults,
    };
    let enforcer = Enforcer::load(&opts).context("loading the policy")?;
    if let Some(file) = &opts.policy_file {
        tracing::info!(file = %file.display(), "policy overrides loaded");
    }
    Ok(enforcer)
}

/// `property_protection_file`, resolved like upstream (relative names in the config
/// directories), parsed in the configured rule format.
pub fn load_protections(
    settings: &Settings,
    policy: &Enforcer,
) -> anyhow::Result<Option<PropertyProtections>> {
    let Some(name) = &settings.property_protection_file else {
        return Ok(None);
    };
    let path = if name.is_absolute() {
        name.clone()
    } else {
        settings
            .config_dirs
            .iter()
            .rev()
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .unwrap_or_else(|| name.clone())
    };
    let format = RuleFormat::from_config(&settings.property_protection_rule_format)
        .context("[DEFAULT] property_protection_rule_format")?;
    let protections = PropertyProtections::load(&path, format)
        .with_context(|| "[DEFAULT] property_protection_file".to_string())?;
    for rule in protections.referenced_policy_rules() {
        if !policy.contains_rule(rule) {
            // Upstream lets such an action through (oslo falls back to `default`);
            // we refuse it, and say so now rather than at the first request.
            tracing::warn!(
                rule,
                file = %path.display(),
                "property protection refers to a policy rule that is not defined; \
                 the operations it guards are refused"
            );
        }
    }
    tracing::info!(file = %path.display(), ?format, "property protections loaded");
    Ok(Some(protections))
}

fn keystone_config(k: &KeystoneAuthtokenSettings) -> KeystoneConfig {
    let d = KeystoneConfig::default();
    KeystoneConfig {
        www_authenticate_uri: k.www_authenticate_uri.clone(),
        auth_url: k.auth_url.clone(),
        auth_type: k.auth_type.clone(),
        username: k.username.clone(),
        password: k.password.clone(),
        project_name: k.project_name.clone(),
        project_id: k.project_id.clone(),
        project_domain_name: k.project_domain_name.clone(),
        project_domain_id: k.project_domain_id.clone(),
        user_domain_name: k.user_domain_name.clone(),
        user_domain_id: k.user_domain_id.clone(),
        service_token_roles: k.service_token_roles.clone(),
        service_token_roles_required: k.service_token_roles_required,
        token_cache_time: k.token_cache_time,
        http_connect_timeout: k.http_connect_timeout,
        http_request_max_retries: k.http_request_max_retries,
        delay_auth_decision: k.delay_auth_decision,
        region_name: k.region_name.clone(),
        interface: k.interface.clone().unwrap_or(d.interface.clone()),
        cafile: k.cafile.clone(),
        insecure: k.insecure,
        certfile: k.certfile.clone(),
        keyfile: k.keyfile.clone(),
        ..d
    }
}

/// The identity layer of `[paste_deploy] flavor`, judging `is_admin` with `policy`.
pub fn build_authenticator(
    settings: &Settings,
    policy: Arc<Enforcer>,
) -> anyhow::Result<Authenticator> {
    let mode = match Flavor::parse(settings.paste_flavor.as_deref())? {
        Flavor::NoAuth => AuthMode::NoAuth,
        Flavor::TrustedAuth => AuthMode::TrustedHeaders,
        Flavor::Keystone => {
            let config = keystone_config(&settings.keystone_authtoken);
            let keystone = KeystoneAuth::new(config).map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(
                auth_url = keystone.config().auth_url.as_deref().unwrap_or(""),
                "validating tokens with Keystone"
            );
            AuthMode::Keystone(keystone)
        }
    };
    Ok(Authenticator::new(
        mode,
        policy,
        settings.allow_anonymous_access,
    ))
}
