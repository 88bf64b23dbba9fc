//! The tower [`Layer`] and its [`Service`]: requests of a cached route go through the route's
//! [`Keyspace`] (single-flight, tags, stale-while-revalidate, the shared tier: the runtime's
//! own); every other request goes straight to the inner service.

use crate::key::RequestKey;
use crate::route::{CompiledRoute, Route, RouteError};
use crate::rules::{Storable, request_is_cacheable, response_is_storable};
use crate::stored::{StoredResponse, none_match};
use bytes::Bytes;
use cached_query::{Cache, Keyspace, Rules};
use http::{HeaderMap, Method, Request, Response, header};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use tower_layer::Layer;
use tower_service::Service;

/// The body of a response from [`ResponseCache`]: a cached one (`Left`) or the inner service's
/// own, passed through (`Right`).
///
/// ```
/// use cached_query_http::ResponseBody;
///
/// let cached: ResponseBody<axum::body::Body> =
///     ResponseBody::Left(http_body_util::Full::new(bytes::Bytes::from_static(b"hi")));
/// # let _ = cached;
/// ```
pub type ResponseBody<B> = Either<Full<Bytes>, B>;

/// Caches the responses of the routes it is given, in the cache-query runtime (see the crate
/// docs).
///
/// ```
/// use cached_query_http::{ResponseCacheLayer, Route};
/// use std::time::Duration;
///
/// let layer = ResponseCacheLayer::new()
///     .route(Route::new("/users/{id}").ttl(Duration::from_secs(60)).tags(["user:{id}"]));
/// let app: axum::Router = axum::Router::new()
///     .route("/users/{id}", axum::routing::get(|| async { "a user" }))
///     .layer(layer);
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
pub struct ResponseCacheLayer {
    config: Arc<LayerConfig>,
}

#[derive(Clone, Default)]
struct LayerConfig {
    routes: Vec<Arc<CachedRoute>>,
    cache: Option<Cache>,
}

/// A compiled route and the keyspace its responses live in (shared by every request of the
/// route: nothing of it is copied per request).
struct CachedRoute {
    compiled: CompiledRoute,
    keyspace: &'static Keyspace,
}

impl fmt::Debug for ResponseCacheLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns: Vec<&str> = self
            .config
            .routes
            .iter()
            .map(|r| r.compiled.route.pattern.as_str())
            .collect();
        f.debug_struct("ResponseCacheLayer")
            .field("routes", &patterns)
            .finish_non_exhaustive()
    }
}

impl ResponseCacheLayer {
    /// A layer that caches nothing until routes are added.
    pub fn new() -> ResponseCacheLayer {
        ResponseCacheLayer::default()
    }

    /// Adds a route, or says why it cannot be cached as written (a tag naming a segment the
    /// pattern does not have, an invalid header name, …).
    ///
    /// ```
    /// use cached_query_http::{ResponseCacheLayer, Route};
    ///
    /// let refused = ResponseCacheLayer::new().try_route(Route::new("/users/{id}").tags(["user:{uid}"]));
    /// assert!(refused.unwrap_err().to_string().contains("`{uid}`"));
    /// ```
    pub fn try_route(mut self, route: Route) -> Result<ResponseCacheLayer, RouteError> {
        let name = format!("http GET {}", route.pattern);
        let keyspace = match route.stale_while_revalidate {
            Some(window) => Keyspace::revalidating(&name, window),
            None => Keyspace::named(&name),
        };
        let compiled = CompiledRoute::compile(route)?;
        self.config_mut()
            .routes
            .push(Arc::new(CachedRoute { compiled, keyspace }));
        Ok(self)
    }

    /// Adds a route; like axum's `Router::route`, panics (at start-up) with the reason when
    /// the route is written wrong. [`try_route`](Self::try_route) returns the error instead.
    ///
    /// ```
    /// let layer = cached_query_http::ResponseCacheLayer::new()
    ///     .route(cached_query_http::Route::new("/products/{sku}").tags(["product:{sku}"]));
    /// # let _ = layer;
    /// ```
    pub fn route(self, route: Route) -> ResponseCacheLayer {
        match self.try_route(route) {
            Ok(layer) => layer,
            Err(error) => panic!("{error}"),
        }
    }

    /// Keeps responses in `cache` instead of the instance current where each request is
    /// served (the process-wide one, unless a `Cache::scope` is around the server). Every
    /// request through the layer is handled inside it (`Cache::scope`), cached route or not,
    /// so the handlers' cached queries and invalidations use it too.
    ///
    /// ```
    /// use cached_query::{Cache, Config};
    ///
    /// let layer = cached_query_http::ResponseCacheLayer::new().cache(Cache::new(Config::new()));
    /// # let _ = layer;
    /// ```
    pub fn cache(mut self, cache: Cache) -> ResponseCacheLayer {
        self.config_mut().cache = Some(cache);
        self
    }

    fn config_mut(&mut self) -> &mut LayerConfig {
        // Cloned layers share their configuration until one of them changes it.
        Arc::make_mut(&mut self.config)
    }
}

impl<S> Layer<S> for ResponseCacheLayer {
    type Service = ResponseCache<S>;

    fn layer(&self, inner: S) -> ResponseCache<S> {
        ResponseCache {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service [`ResponseCacheLayer`] wraps around another.
///
/// ```
/// use cached_query_http::{ResponseCache, ResponseCacheLayer, Route};
/// use tower_layer::Layer;
///
/// let service: ResponseCache<axum::Router> = ResponseCacheLayer::new()
///     .route(Route::new("/"))
///     .layer(axum::Router::new());
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct ResponseCache<S> {
    inner: S,
    config: Arc<LayerConfig>,
}

impl<S> fmt::Debug for ResponseCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseCache").finish_non_exhaustive()
    }
}

/// The future of [`ResponseCache`]'s responses (boxed: it holds the route's computation).
///
/// ```
/// use cached_query_http::{ResponseBody, ResponseFuture};
///
/// fn assert_send<T: Send>() {}
/// assert_send::<ResponseFuture<axum::body::Body, std::convert::Infallible>>();
/// ```
pub type ResponseFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody<B>>, E>> + Send + 'static>>;

/// A request of a cached route, ready to be served through its keyspace.
struct Plan {
    keyspace: &'static Keyspace,
    key: RequestKey,
    tags: Vec<String>,
    rules: Rules<StoredResponse>,
    route: Arc<CachedRoute>,
    head: bool,
    conditional: HeaderMap,
    cache: Option<Cache>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ResponseCache<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Body + Send + 'static,
    ResBody::Data: Send,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone takes the place of the service made ready by `poll_ready`, which serves
        // this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let cache = self.config.cache;
        match self.plan(&mut request) {
            None => Box::pin(async move {
                let passed = inner.call(request);
                let response = match cache {
                    Some(cache) => cache.scope(passed).await?,
                    None => passed.await?,
                };
                Ok(response.map(Either::Right))
            }),
            Some(plan) => Box::pin(serve(plan, inner, request)),
        }
    }
}

impl<S> ResponseCache<S> {
    /// The plan for a request of a cached route; `None` for every other request. Takes the
    /// request's conditional headers: the cache answers them, the handler always computes the
    /// full response.
    fn plan<B>(&self, request: &mut Request<B>) -> Option<Plan> {
        let path = request.uri().path();
        let (cached, parts) = self
            .config
            .routes
            .iter()
            .find_map(|cached| Some((cached, cached.compiled.matches(path)?)))?;
        let route = &cached.compiled.route;
        if !request_is_cacheable(route, request.method(), request.headers()) {
            return None;
        }
        let head = request.method() == Method::HEAD;
        let key = RequestKey::new(
            head,
            path,
            request.uri().query(),
            &route.query,
            request.headers(),
            &route.headers,
        );
        let tags = cached.compiled.tags_for(&parts);
        let mut conditional = HeaderMap::new();
        for value in request.headers().get_all(header::IF_NONE_MATCH) {
            conditional.append(header::IF_NONE_MATCH, value.clone());
        }
        request.headers_mut().remove(header::IF_NONE_MATCH);
        request.headers_mut().remove(header::IF_MODIFIED_SINCE);
        Some(Plan {
            keyspace: cached.keyspace,
            key,
            tags,
            rules: Rules::ttl(route.ttl)
                .unless(|response: &StoredResponse| response.uncacheable)
                .ttl_from(StoredResponse::own_ttl),
            route: Arc::clone(cached),
            head,
            conditional,
            cache: self.config.cache,
        })
    }
}

/// Serves a request of a cached route: the stored response (or a `304`), or the handler's,
/// computed once for every concurrent request of the same key.
async fn serve<S, ReqBody, ResBody>(
    plan: Plan,
    inner: S,
    request: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Body + Send + 'static,
    ResBody::Data: Send,
{
    // What the computation hands back besides the value: the handler's error, or a response
    // it did not read (too large, or of unknown size). Either way it stores nothing.
    let aside: Slot<S::Error, ResBody> = Arc::new(Mutex::new(None));
    let compute = {
        let aside = Arc::clone(&aside);
        let route = Arc::clone(&plan.route);
        move || compute(inner, request, route, aside)
    };
    let tags: Vec<&str> = plan.tags.iter().map(String::as_str).collect();
    let lookup = plan
        .keyspace
        .remember(&plan.key, &tags, plan.rules, compute);
    let stored = match plan.cache {
        Some(cache) => cache.scope(lookup).await,
        None => lookup.await,
    };
    let set_aside = aside.lock().unwrap_or_else(PoisonError::into_inner).take();
    match set_aside {
        Some(Aside::Failed(error)) => return Err(error),
        Some(Aside::Streamed(response)) => return Ok(response.map(Either::Right)),
        None => {}
    }
    let control = &plan.route.compiled.route.client_cache_control;
    let response = if !stored.uncacheable && none_match(&plan.conditional, stored.etag()) {
        stored.not_modified(control)
    } else {
        stored.to_response(plan.head, control)
    };
    Ok(response.map(Either::Left))
}

/// What a computation could not return as a [`StoredResponse`].
enum Aside<E, B> {
    /// The handler failed: its error goes to the caller.
    Failed(E),
    /// A body too large to buffer, or of unknown size: sent as it streams, not cached.
    Streamed(Response<B>),
}

type Slot<E, B> = Arc<Mutex<Option<Aside<E, B>>>>;

/// Runs the handler and reads its whole response: what the keyspace stores, or marks
/// uncacheable (the route's rules refuse it, the handler failed, or the body was left to
/// stream, in `aside`).
fn compute<S, ReqBody, ResBody>(
    mut inner: S,
    request: Request<ReqBody>,
    route: Arc<CachedRoute>,
    aside: Slot<S::Error, ResBody>,
) -> impl Future<Output = StoredResponse> + Send + 'static
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Body + Send + 'static,
    ResBody::Data: Send,
{
    let called = inner.call(request);
    async move {
        let response = match called.await {
            Ok(response) => response,
            Err(error) => {
                *aside.lock().unwrap_or_else(PoisonError::into_inner) = Some(Aside::Failed(error));
                return StoredResponse::failed();
            }
        };
        let limit = route.compiled.route.max_body_bytes;
        if response
            .body()
            .size_hint()
            .upper()
            .is_none_or(|size| size > limit)
        {
            *aside.lock().unwrap_or_else(PoisonError::into_inner) = Some(Aside::Streamed(response));
            return StoredResponse::failed();
        }
        let (parts, body) = response.into_parts();
        let Ok(collected) = body.collect().await else {
            // The body broke off: nothing sound to store or send.
            return StoredResponse::failed();
        };
        let mut stored = StoredResponse::new(parts.status, &parts.headers, collected.to_bytes());
        match response_is_storable(&route.compiled.route, parts.status, &parts.headers) {
            Storable::Yes(ttl) => {
                if let Some(parts) = Arc::get_mut(&mut stored.parts) {
                    parts.ttl_ms = ttl.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
                }
            }
            Storable::No(_) => stored.uncacheable = true,
        }
        stored
    }
}
