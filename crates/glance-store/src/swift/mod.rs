//! The `swift` store (upstream `glance_store/_drivers/swift/`): images in an
//! OpenStack Swift cluster, in the service's own account (single-tenant, credentials
//! from `swift_store_config_file` or the legacy in-section options) or in each
//! caller's account (multi-tenant).

mod account;
mod auth;
mod config_file;
mod keystone;
mod location;
mod objects;
mod reader;
mod settings;
mod streamed_put;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hyper::Method;
use serde_json::json;

use crate::remote::HttpClient;
use crate::{ByteRange, ObjectReader, Store, StoreCaller, StoreError, StoreInfo, StoreOptions};
use crate::{StoreWriter, UploadTarget};
use account::{status_error, Access, Account, Target};
use auth::{drain, host_of, AuthContext, AuthSession};
use keystone::CatalogQuery;
use location::{LocationAuth, SwiftLocation};
use settings::{Identity, Reference, SwiftSettings};
use writer::{SwiftWriter, UploadPlan};

/// How long to wait for the head of an answer to a short call.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);
/// A streamed PUT is answered only after its whole body went out, which takes as long
/// as the client takes to send a segment.
const UPLOAD_ANSWER_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Token caches kept at most (one per distinct set of credentials).
const MAX_SESSIONS: usize = 256;

pub struct SwiftStore {
    info: StoreInfo,
    settings: SwiftSettings,
    http: HttpClient,
    upload_http: HttpClient,
    /// One token cache per set of credentials (the default reference, other
    /// references and credentials named by old locations).
    sessions: Mutex<HashMap<Reference, Arc<AuthSession>>>,
}

impl SwiftStore {
    pub fn new(info: StoreInfo, options: &StoreOptions) -> Result<Self, StoreError> {
        let settings = SwiftSettings::parse(options)?;
        let client = |timeout| {
            HttpClient::new(&settings.tls, None, timeout)
                .map_err(|reason| options.invalid("swift_store_cacert", reason))
        };
        let (http, upload_http) = (client(ANSWER_TIMEOUT)?, client(UPLOAD_ANSWER_TIMEOUT)?);
        if !settings.multi_tenant
            && !settings
                .references
                .contains_key(&settings.default_reference)
        {
            tracing::warn!(
                store = %info.id,
                reference = %settings.default_reference,
                "swift store has no credentials for new images (set swift_store_config_file \
                 with that reference, or swift_store_auth_address/user/key); adding is disabled"
            );
        }
        Ok(SwiftStore {
            info,
            settings,
            http,
            upload_http,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn session(&self, reference: &Reference) -> Arc<AuthSession> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        // Old locations may each carry other credentials; keep the cache bounded
        // (a dropped session only costs a new login).
        if sessions.len() >= MAX_SESSIONS && !sessions.contains_key(reference) {
            sessions.clear();
        }
        sessions
            .entry(reference.clone())
            .or_insert_with(|| {
                let context = AuthContext {
                    catalog: CatalogQuery {
                        service_type: self.settings.service_type.clone(),
                        interface: settings::interface_of(&self.settings.endpoint_type),
                        region: self.settings.region.clone(),
                    },
                    endpoint: self.settings.endpoint.clone(),
                    expire_soon: self.settings.expire_soon,
                };
                Arc::new(AuthSession::new(
                    self.http.clone(),
                    reference.clone(),
                    context,
                ))
            })
            .clone()
    }

    fn account(&self, access: Access) -> Account {
        Account::new(self.http.clone(), self.upload_http.clone(), access)
    }

    /// The caller's own account (multi-tenant): its token on `storage_url`.
    fn caller_account(
        &self,
        storage_url: String,
        caller: &StoreCaller,
    ) -> Result<Account, StoreError> {
        let token = caller.auth_token.clone().ok_or_else(|| {
            StoreError::Backend("multi-tenant Swift storage needs the caller's token".into())
        })?;
        Ok(self.account(Access::Caller { storage_url, token }))
    }

    /// The account a location lives in, and who to be there.
    fn location_account(
        &self,
        loc: &SwiftLocation,
        caller: &StoreCaller,
    ) -> Result<Account, StoreError> {
        match &loc.auth {
            LocationAuth::Reference(name) => {
                let reference = self.settings.references.get(name).ok_or_else(|| {
                    StoreError::BadLocation(format!("unknown swift account reference '{name}'"))
                })?;
                Ok(self.account(Access::Service(self.session(reference))))
            }
            LocationAuth::Inline { user, key } => {
                // Old locations carry user and key; the rest (auth version, domains)
                // comes from the default reference, as upstream's store attributes do.
                let default = self
                    .settings
                    .references
                    .get(&self.settings.default_reference);
                let reference = Reference {
                    auth_address: loc.address_url(),
                    identity: Identity::Password {
                        user: user.clone(),
                        key: key.clone(),
                    },
                    auth_version: default.map_or(self.settings.auth_version, |r| r.auth_version),
                    user_domain: default
                        .map_or_else(settings::default_domain, |r| r.user_domain.clone()),
                    project_domain: default
                        .map_or_else(settings::default_domain, |r| r.project_domain.clone()),
                };
                Ok(self.account(Access::Service(self.session(&reference))))
            }
            LocationAuth::None if self.settings.multi_tenant => {
                let storage_url = loc.address_url();
                self.check_token_destination(&storage_url, caller)?;
                self.caller_account(storage_url, caller)
            }
            LocationAuth::None => {
                // Upstream writes application-credential images without credentials
                // in the URI and reads them with the configured credential.
                let default = self
                    .settings
                    .references
                    .get(&self.settings.default_reference);
                match default {
                    Some(reference)
                        if matches!(reference.identity, Identity::AppCredential { .. })
                            && same_address(&reference.auth_url(), &loc.address_url()) =>
                    {
                        Ok(self.account(Access::Service(self.session(reference))))
                    }
                    _ => Err(StoreError::BadLocation(format!(
                        "{}: the location has no credentials and the store is not multi-tenant",
                        loc.describe()
                    ))),
                }
            }
        }
    }

    /// The caller's token only goes to the Swift it came with: the host of its own
    /// object-store endpoint or of `swift_store_endpoint`. A location added by
    /// someone else cannot send it elsewhere.
    fn check_token_destination(
        &self,
        storage_url: &str,
        caller: &StoreCaller,
    ) -> Result<(), StoreError> {
        let host = host_of(storage_url);
        let allowed = [
            self.settings.endpoint.as_deref(),
            caller.object_store_url.as_deref(),
        ];
        if allowed.iter().flatten().any(|url| host_of(url) == host) {
            Ok(())
        } else {
            Err(StoreError::LocationRefused(format!(
                "{host} is not the caller's object store; its token is not sent there"
            )))
        }
    }

    /// Sets a multi-tenant image container's ACLs as upstream's `set_acls`: read for
    /// everyone when public, else for `read_tenants`; write for `write_tenants` and
    /// `swift_store_admin_tenants`.
    pub async fn set_acls(
        &self,
        location: &str,
        public: bool,
        read_tenants: &[String],
        write_tenants: &[String],
        caller: &StoreCaller,
    ) -> Result<(), StoreError> {
        let loc = SwiftLocation::parse(location)?;
        let account = self.location_account(&loc, caller)?;
        let read = if public {
            "*:*".to_string()
        } else {
            tenant_acl(read_tenants.iter())
        };
        let write = tenant_acl(write_tenants.iter().chain(&self.settings.admin_tenants));
        let target = Target::container(&loc.container);
        let headers = [
            ("X-Container-Read", read.as_str()),
            ("X-Container-Write", write.as_str()),
        ];
        let response = account
            .call(Method::POST, target, "", &headers, None)
            .await?;
        if !response.status().is_success() {
            return Err(status_error(response, target, "POST").await);
        }
        drain(response).await;
        Ok(())
    }
}

/// Two auth addresses are the same one whatever their trailing slashes.
fn same_address(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// `t1:*,t2:*`: every user of each project.
fn tenant_acl<'a>(tenants: impl Iterator<Item = &'a String>) -> String {
    tenants
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait]
impl Store for SwiftStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// What upstream's discovery shows (`_get_swift_properties`), sizes in bytes.
    fn properties(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        map.insert("container".into(), json!(self.settings.container));
        map.insert(
            "large_object_size".into(),
            json!(self.settings.large_object_size),
        );
        map.insert(
            "large_object_chunk_size".into(),
            json!(self.settings.large_object_chunk_size),
        );
        map
    }

    async fn begin_upload(
        &self,
        target: &UploadTarget<'_>,
    ) -> Result<Box<dyn StoreWriter>, StoreError> {
        let image_id = target.image_id;
        if image_id.is_empty() || image_id.contains(['/', '?', '#']) {
            return Err(StoreError::BadLocation(format!(
                "invalid image id {image_id:?}"
            )));
        }
        let s = &self.settings;
        let (account, container, location, acl) = if s.multi_tenant {
            let storage_url = s
                .endpoint
                .clone()
                .or_else(|| target.caller.object_store_url.clone())
                .ok_or_else(|| {
                    StoreError::Backend(
                        "multi-tenant Swift storage needs the caller's object-store endpoint"
                            .into(),
                    )
                })?;
            let container = s.multi_tenant_container(image_id);
            let location = location::address_uri(&storage_url, None, &container, image_id);
            let account = self.caller_account(storage_url, target.caller)?;
            let acl = tenant_acl(s.admin_tenants.iter());
            (account, container, location, acl)
        } else {
            let reference = s.references.get(&s.default_reference).ok_or_else(|| {
                StoreError::AddDisabled(format!(
                    "the swift store has no credentials for reference '{}'",
                    s.default_reference
                ))
            })?;
            let container = s.single_tenant_container(image_id);
            let location = match (&reference.identity, s.from_config_file) {
                (_, true) => location::config_uri(&s.default_reference, &container, image_id),
                (Identity::Password { user, key }, false) => location::address_uri(
                    &reference.auth_address,
                    Some((user, key)),
                    &container,
                    image_id,
                ),
                (Identity::AppCredential { .. }, false) => {
                    location::address_uri(&reference.auth_address, None, &container, image_id)
                }
            };
            let account = self.account(Access::Service(self.session(reference)));
            (account, container, location, String::new())
        };
        let mut headers = Vec::new();
        if !acl.is_empty() {
            headers.push(("X-Container-Write", acl.as_str()));
        }
        objects::ensure_container(&account, &container, s.create_container_on_put, &headers)
            .await?;
        if objects::exists(&account, Target::object(&container, image_id)).await? {
            return Err(StoreError::Duplicate(format!(
                "swift already has {container}/{image_id}"
            )));
        }
        Ok(Box::new(SwiftWriter::start(UploadPlan {
            account,
            container,
            object: image_id.to_string(),
            location,
            expected_size: target.expected_size,
            large_object_size: s.large_object_size,
            chunk_size: s.large_object_chunk_size,
        })))
    }

    async fn open(
        &self,
        location: &str,
        range: Option<ByteRange>,
        caller: &StoreCaller,
    ) -> Result<ObjectReader, StoreError> {
        let loc = SwiftLocation::parse(location)?;
        let account = self.location_account(&loc, caller)?;
        reader::open(
            account,
            loc.container,
            loc.object,
            range,
            self.settings.retry_get_count,
        )
        .await
    }

    async fn size(&self, location: &str, caller: &StoreCaller) -> Result<u64, StoreError> {
        let loc = SwiftLocation::parse(location)?;
        let account = self.location_account(&loc, caller)?;
        Ok(
            objects::head(&account, Target::object(&loc.container, &loc.object))
                .await?
                .size,
        )
    }

    async fn delete(&self, location: &str, caller: &StoreCaller) -> Result<(), StoreError> {
        let loc = SwiftLocation::parse(location)?;
        let account = self.location_account(&loc, caller)?;
        objects::delete_image_object(&account, Target::object(&loc.container, &loc.object)).await?;
        if loc.auth == LocationAuth::None {
            // A multi-tenant image has a container of its own (upstream removes it too).
            // Swift refuses to remove a container that still holds objects.
            if let Err(e) =
                objects::delete_one(&account, Target::container(&loc.container), "").await
            {
                tracing::warn!(error = %e, container = %loc.container, "cannot remove an image container");
            }
        }
        Ok(())
    }

    fn owns(&self, location: &str) -> bool {
        match SwiftLocation::parse(location) {
            Ok(loc) => match &loc.auth {
                LocationAuth::Reference(name) => self.settings.references.contains_key(name),
                _ => true,
            },
            Err(_) => false,
        }
    }
}
