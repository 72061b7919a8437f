//! Every route of the API, and version negotiation in front of them.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;
use glance_auth::Authenticator;
use glance_core::Glance;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::handlers::{
    discovery, image_data, image_import, images, locations, members, metadefs_content as md,
    metadefs_namespaces as mdns, registry, schemas, tags, tasks, v1_images, v1_members,
};
use crate::middleware::{cors_preflight, render_errors, request_context};
use crate::views::ImageViewOptions;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub glance: Glance,
    pub auth: Authenticator,
    pub view: ImageViewOptions,
}

impl AppState {
    pub fn new(glance: Glance, auth: Authenticator) -> Self {
        let view = ImageViewOptions {
            show_direct_url: glance.settings.show_image_direct_url,
            show_locations: glance.settings.show_multiple_locations,
            multi_store: glance.stores.multi_store(),
        };
        AppState { glance, auth, view }
    }
}

// HEAD is deliberately not routed to GET: upstream answers 405 for HEAD on v2 routes.
const GET: MethodFilter = MethodFilter::GET;
const POST: MethodFilter = MethodFilter::POST;
const PUT: MethodFilter = MethodFilter::PUT;
const PATCH: MethodFilter = MethodFilter::PATCH;
const DELETE: MethodFilter = MethodFilter::DELETE;

fn v2_routes(state: AppState) -> Router {
    Router::new()
        .route("/v2/images", on(GET, images::list).on(POST, images::create))
        .route(
            "/v2/images/{image_id}",
            on(GET, images::show)
                .on(PATCH, images::update)
                .on(DELETE, images::delete),
        )
        .route(
            "/v2/images/{image_id}/actions/deactivate",
            on(POST, images::deactivate),
        )
        .route(
            "/v2/images/{image_id}/actions/reactivate",
            on(POST, images::reactivate),
        )
        .route(
            "/v2/images/{image_id}/file",
            on(GET, image_data::download).on(PUT, image_data::upload),
        )
        .route("/v2/images/{image_id}/stage", on(PUT, image_import::stage))
        .route(
            "/v2/images/{image_id}/import",
            on(POST, image_import::import),
        )
        .route(
            "/v2/images/{image_id}/tags/{tag}",
            on(PUT, tags::add).on(DELETE, tags::delete),
        )
        .route(
            "/v2/images/{image_id}/members",
            on(GET, members::list).on(POST, members::create),
        )
        .route(
            "/v2/images/{image_id}/members/{member_id}",
            on(GET, members::show)
                .on(PUT, members::update)
                .on(DELETE, members::delete),
        )
        .route(
            "/v2/metadefs/resource_types",
            on(GET, mdns::list_resource_types),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/resource_types",
            on(GET, mdns::list_associations).on(POST, mdns::create_association),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/resource_types/{resource_type}",
            on(DELETE, mdns::delete_association),
        )
        .route(
            "/v2/metadefs/namespaces",
            on(GET, mdns::list).on(POST, mdns::create),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}",
            on(GET, mdns::show)
                .on(PUT, mdns::update)
                .on(DELETE, mdns::delete),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/properties",
            on(GET, md::list_properties)
                .on(POST, md::create_property)
                .on(DELETE, md::delete_properties),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/properties/{property_name}",
            on(GET, md::show_property)
                .on(PUT, md::update_property)
                .on(DELETE, md::delete_property),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/objects",
            on(GET, md::list_objects)
                .on(POST, md::create_object)
                .on(DELETE, md::delete_objects),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/objects/{object_name}",
            on(GET, md::show_object)
                .on(PUT, md::update_object)
                .on(DELETE, md::delete_object),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/tags",
            on(GET, md::list_tags)
                .on(POST, md::create_tags)
                .on(DELETE, md::delete_tags),
        )
        .route(
            "/v2/metadefs/namespaces/{namespace}/tags/{tag_name}",
            on(GET, md::show_tag)
                .on(POST, md::create_tag)
                .on(PUT, md::update_tag)
                .on(DELETE, md::delete_tag),
        )
        .route("/v2/schemas/image", on(GET, schemas::image))
        .route("/v2/schemas/images", on(GET, schemas::images))
        .route("/v2/schemas/member", on(GET, schemas::member))
        .route("/v2/schemas/members", on(GET, schemas::members))
        .route("/v2/schemas/task", on(GET, schemas::task))
        .route("/v2/schemas/tasks", on(GET, schemas::tasks))
        .route("/v2/schemas/metadefs/{name}", on(GET, schemas::metadef))
        .route("/v2/info/import", on(GET, discovery::import_info))
        .route("/v2/info/stores", on(GET, discovery::stores_info))
        .route("/v2/info/stores/detail", on(GET, discovery::stores_detail))
        .route(
            "/v2/images/{image_id}/locations",
            on(GET, locations::list).on(POST, locations::add),
        )
        .route("/v2/images/{image_id}/tasks", on(GET, tasks::image_tasks))
        .route("/v2/tasks", on(GET, tasks::list).on(POST, tasks::create))
        .route(
            "/v2/tasks/{task_id}",
            on(GET, tasks::show).on(DELETE, tasks::delete),
        )
        .route(
            "/v2/stores/{store_id}/{image_id}",
            on(DELETE, locations::delete_from_store),
        )
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), request_context))
        .with_state(state)
}

/// The legacy v1 API (`enable_v1_api`). Unlike v2, HEAD is a real method here.
fn v1_routes(state: AppState) -> Router {
    const HEAD: MethodFilter = MethodFilter::HEAD;
    Router::new()
        .route("/v1/", on(GET, v1_images::list))
        .route(
            "/v1/images",
            on(GET, v1_images::list).on(POST, v1_images::create),
        )
        .route(
            "/v1/images/detail",
            on(GET, v1_images::detail).on(HEAD, v1_images::detail_head),
        )
        .route(
            "/v1/images/{image_id}",
            on(HEAD, v1_images::meta)
                .on(GET, v1_images::show)
                .on(PUT, v1_images::update)
                .on(DELETE, v1_images::delete),
        )
        .route(
            "/v1/images/{image_id}/members",
            on(GET, v1_members::list).on(PUT, v1_members::replace),
        )
        .route(
            "/v1/images/{image_id}/members/{member_id}",
            on(GET, v1_members::show)
                .on(PUT, v1_members::add)
                .on(DELETE, v1_members::delete),
        )
        .route(
            "/v1/shared-images/{member_id}",
            axum::routing::any(v1_members::shared_images),
        )
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), request_context))
        .with_state(state)
}

/// The registry server's app (`glance-registry`): the seeds' registry API at the root,
/// with the API's request context, policy and error bodies.
pub fn build_registry_app(state: AppState) -> Router {
    Router::new()
        // The brief list is v1's.
        .route("/", on(GET, v1_images::list))
        .route(
            "/images",
            on(GET, v1_images::list).on(POST, registry::create),
        )
        .route("/images/detail", on(GET, registry::detail))
        .route(
            "/images/{image_id}",
            on(GET, registry::show)
                .on(PUT, registry::update)
                .on(DELETE, registry::delete),
        )
        .route(
            "/images/{image_id}/members",
            on(GET, v1_members::list).on(PUT, v1_members::replace),
        )
        .route(
            "/images/{image_id}/members/{member_id}",
            on(PUT, v1_members::add).on(DELETE, v1_members::delete),
        )
        .route(
            "/shared-images/{member_id}",
            axum::routing::any(v1_members::shared_images),
        )
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), request_context))
        .layer(from_fn(render_errors))
        .with_state(state)
}

/// Marks a HEAD request while it passes the v2 router, so that no GET route answers it.
const UNROUTED_HEAD: &str = "HEAD-IS-NOT-ROUTED";

/// Unknown path: 404, or 501 for a method upstream's router does not know at all.
async fn not_found(method: Method) -> ApiError {
    let known = [
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "DELETE",
        "PATCH",
        UNROUTED_HEAD,
    ];
    if !known.contains(&method.as_str()) {
        return ApiError::not_implemented(method.as_str());
    }
    ApiError::not_found("The resource could not be found.")
}

/// The whole application: versions document, health check and the v2 API.
pub fn build_app(state: AppState) -> Router {
    let v2 = v2_routes(state.clone());
    let v1 = v1_routes(state.clone());
    Router::new()
        .route("/versions", on(GET, discovery::versions))
        .route(
            "/healthcheck",
            on(GET.or(MethodFilter::HEAD), discovery::healthcheck),
        )
        .fallback(move |State(state): State<AppState>, request: Request| {
            negotiate(state, v2.clone(), v1.clone(), request)
        })
        .layer(from_fn(render_errors))
        .layer(from_fn(cors_preflight))
        .with_state(state)
}

/// Upstream's version negotiation: `/v2.x/...` is served as `/v2/...` for the versions
/// this deployment advertises; any other first segment gets the versions document (300).
async fn negotiate(state: AppState, v2: Router, v1: Router, mut request: Request) -> Response {
    let path = request.uri().path().to_string();
    let trimmed = path.trim_start_matches('/');
    let (first, rest) = trimmed
        .split_once('/')
        .map(|(a, b)| (a, Some(b)))
        .unwrap_or((trimmed, None));
    if state.glance.settings.enable_v1_api && matches!(first, "v1" | "v1.0" | "v1.1") {
        rewrite_path(&mut request, &format!("/v1/{}", rest.unwrap_or("")));
        return match v1.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    if !discovery::accepted_prefix(&state.glance.settings, first) {
        return discovery::versions_response(
            &state,
            request.headers(),
            StatusCode::MULTIPLE_CHOICES,
        );
    }
    let Some(rest) = rest else {
        // "/v2" redirects to "/v2/" (which has no route), as upstream, with an
        // absolute Location.
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(location) = HeaderValue::from_str(&format!("http://{host}/{first}/")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        return response;
    };
    rewrite_path(&mut request, &format!("/v2/{rest}"));
    // Upstream does not map HEAD to GET on v2 routes: it answers 405. A method no route
    // has makes the router answer 405 with the route's Allow list.
    let is_head = request.method() == Method::HEAD;
    if is_head {
        *request.method_mut() = Method::from_bytes(UNROUTED_HEAD.as_bytes()).expect("valid token");
    }
    let mut response = match v2.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if let Some(allow) = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
    {
        let methods: Vec<&str> = allow
            .split(',')
            .map(str::trim)
            .filter(|m| *m != "HEAD")
            .collect();
        if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
            response.headers_mut().insert(header::ALLOW, v);
        }
    }
    response
}

/// Serves the request under `new_path`, keeping its query.
fn rewrite_path(request: &mut Request, new_path: &str) {
    let new_uri = match request.uri().query() {
        Some(q) => format!("{new_path}?{q}"),
        None => new_path.to_string(),
    };
    if let Ok(uri) = new_uri.parse::<Uri>() {
        *request.uri_mut() = uri;
    }
}
