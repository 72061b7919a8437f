//! Upstream Glance's registered policy defaults (`glance/policies/*.py`, secure
//! RBAC as of 2026): every rule Glance enforces, its default check string, its
//! `scope_types`, and the check string of its deprecated rule, which
//! `enforce_new_defaults = false` ORs in.
//!
//! The base rules (`default`, `context_is_admin`, `service_api`,
//! `metadef_default`, `metadef_admin`) have no scope types upstream, so they are
//! never scope-checked; every other rule is `['project']`. All deprecated rules
//! keep the name of the rule they belong to.

/// A rule Glance registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DefaultRule {
    pub(crate) name: &'static str,
    pub(crate) check_str: &'static str,
    /// Token scopes allowed; empty means the rule is not scope-checked.
    pub(crate) scope_types: &'static [&'static str],
    /// The pre-RBAC check string, OR-ed in when new defaults are not enforced.
    pub(crate) deprecated_check_str: Option<&'static str>,
}

const PROJECT: &[&str] = &["project"];
const UNSCOPED: &[&str] = &[];

// The building blocks upstream composes its defaults from (glance/policies/base.py),
// spelled out.
const ADMIN: &str = "rule:context_is_admin";
const DEFAULT: &str = "rule:default";
const SERVICE: &str = "rule:service_api";
const METADEF_ADMIN: &str = "rule:metadef_admin";
const METADEF_DEFAULT: &str = "rule:metadef_default";
const MANAGE_IMAGE_CACHE: &str = "rule:manage_image_cache";
const ADMIN_OR_SERVICE: &str = "rule:context_is_admin or rule:service_api";
const ADMIN_OR_PROJECT_MEMBER: &str =
    "rule:context_is_admin or (role:member and project_id:%(project_id)s)";
const ADMIN_OR_PROJECT_READER: &str =
    "rule:context_is_admin or (role:reader and project_id:%(project_id)s)";
const ADMIN_OR_SHARED_MEMBER: &str =
    "rule:context_is_admin or (role:member and project_id:%(member_id)s)";
// Note the missing parentheses: `and` binds tighter, so this still reads as
// "admin, or a reader who owns the image or is its member".
const ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER: &str = "rule:context_is_admin or role:reader and \
     (project_id:%(project_id)s or project_id:%(member_id)s)";
const ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE: &str = "rule:context_is_admin or \
     (role:member and project_id:%(project_id)s and project_id:%(owner)s)";
const SERVICE_OR_PROJECT_MEMBER: &str = "rule:service_api or \
     (role:member and project_id:%(project_id)s and project_id:%(owner)s)";
const ADMIN_OR_PROJECT_READER_GET_IMAGE: &str = "rule:context_is_admin or \
     (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s or \
     'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))";
const ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE: &str = "rule:context_is_admin or \
     (role:member and (project_id:%(project_id)s or project_id:%(member_id)s or \
     'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))";
const ADMIN_OR_PROJECT_READER_GET_NAMESPACE: &str = "rule:context_is_admin or \
     (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))";

const fn rule(
    name: &'static str,
    check_str: &'static str,
    scope_types: &'static [&'static str],
    deprecated_check_str: Option<&'static str>,
) -> DefaultRule {
    DefaultRule {
        name,
        check_str,
        scope_types,
        deprecated_check_str,
    }
}

/// In upstream's registration order.
pub(crate) const GLANCE_DEFAULT_RULES: &[DefaultRule] = &[
    // base.py
    rule("default", "", UNSCOPED, Some(ADMIN)),
    rule("context_is_admin", "role:admin", UNSCOPED, None),
    rule("service_api", "role:service or role:admin", UNSCOPED, None),
    // image.py
    rule(
        "add_image",
        ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "delete_image",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "get_image",
        ADMIN_OR_PROJECT_READER_GET_IMAGE,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "get_images",
        ADMIN_OR_PROJECT_READER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "modify_image",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule("publicize_image", ADMIN, PROJECT, None),
    rule(
        "communitize_image",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "download_image",
        ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "download_from_store",
        ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
        PROJECT,
        None,
    ),
    rule(
        "upload_image",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule("delete_image_location", ADMIN, PROJECT, Some(DEFAULT)),
    rule(
        "get_image_location",
        ADMIN_OR_PROJECT_READER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "set_image_location",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "add_image_location",
        SERVICE_OR_PROJECT_MEMBER,
        PROJECT,
        None,
    ),
    rule("fetch_image_location", SERVICE, PROJECT, None),
    rule(
        "add_member",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "delete_member",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "get_member",
        ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "get_members",
        ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "modify_member",
        ADMIN_OR_SHARED_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule("manage_image_cache", ADMIN, PROJECT, None),
    rule(
        "deactivate",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule(
        "reactivate",
        ADMIN_OR_PROJECT_MEMBER,
        PROJECT,
        Some(DEFAULT),
    ),
    rule("copy_image", ADMIN, PROJECT, None),
    rule("list_cached_nodes", ADMIN, PROJECT, None),
    // tasks.py
    rule("get_task", DEFAULT, PROJECT, Some(DEFAULT)),
    rule("get_tasks", DEFAULT, PROJECT, Some(DEFAULT)),
    rule("add_task", DEFAULT, PROJECT, Some(DEFAULT)),
    rule("modify_task", DEFAULT, PROJECT, None),
    rule("tasks_api_access", ADMIN, PROJECT, None),
    // metadef.py
    rule("metadef_default", "", UNSCOPED, None),
    rule("metadef_admin", ADMIN, UNSCOPED, None),
    rule(
        "get_metadef_namespace",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule(
        "get_metadef_namespaces",
        ADMIN_OR_PROJECT_READER,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule("modify_metadef_namespace", METADEF_ADMIN, PROJECT, None),
    rule("add_metadef_namespace", METADEF_ADMIN, PROJECT, None),
    rule("delete_metadef_namespace", METADEF_ADMIN, PROJECT, None),
    rule(
        "get_metadef_object",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule(
        "get_metadef_objects",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule("modify_metadef_object", METADEF_ADMIN, PROJECT, None),
    rule("add_metadef_object", METADEF_ADMIN, PROJECT, None),
    rule("delete_metadef_object", METADEF_ADMIN, PROJECT, None),
    rule(
        "list_metadef_resource_types",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule(
        "get_metadef_resource_type",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule(
        "add_metadef_resource_type_association",
        METADEF_ADMIN,
        PROJECT,
        None,
    ),
    rule(
        "remove_metadef_resource_type_association",
        METADEF_ADMIN,
        PROJECT,
        None,
    ),
    rule(
        "get_metadef_property",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule(
        "get_metadef_properties",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule("modify_metadef_property", METADEF_ADMIN, PROJECT, None),
    rule("add_metadef_property", METADEF_ADMIN, PROJECT, None),
    rule("remove_metadef_property", METADEF_ADMIN, PROJECT, None),
    rule(
        "get_metadef_tag",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule(
        "get_metadef_tags",
        ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
        PROJECT,
        Some(METADEF_DEFAULT),
    ),
    rule("modify_metadef_tag", METADEF_ADMIN, PROJECT, None),
    rule("add_metadef_tag", METADEF_ADMIN, PROJECT, None),
    rule("add_metadef_tags", METADEF_ADMIN, PROJECT, None),
    rule("delete_metadef_tag", METADEF_ADMIN, PROJECT, None),
    rule("delete_metadef_tags", METADEF_ADMIN, PROJECT, None),
    // cache.py
    rule("cache_image", ADMIN, PROJECT, Some(MANAGE_IMAGE_CACHE)),
    rule("cache_list", ADMIN, PROJECT, Some(MANAGE_IMAGE_CACHE)),
    rule("cache_delete", ADMIN, PROJECT, Some(MANAGE_IMAGE_CACHE)),
    rule("cache_clean", ADMIN, PROJECT, None),
    rule("cache_prune", ADMIN, PROJECT, None),
    // discovery.py
    rule("stores_info_detail", ADMIN_OR_SERVICE, PROJECT, Some(ADMIN)),
];
