//! The failover loop every model-routed endpoint goes through: one deadline
//! for the whole request; at each model, tries at its deployments (chosen by
//! the balancer among those whose upstream takes traffic and whose breaker
//! admits), retried on the compiled faults with backoff and `Retry-After`;
//! then its fallbacks in order, or its context-window fallbacks when an
//! upstream says the prompt is too long. Nothing is retried once an answer
//! is committed: a whole answer is returned as it is, and a stream is
//! committed only after its first event arrived (`upstream/primed.rs`);
//! from then on a failure ends it with an explicit error event
//! (`provider/relay.rs`).
//!
//! The happy path (first try succeeds) allocates nothing here (the fallback
//! plan and the visited list stay empty until a model is spent, the
//! client's headers go to the first try as they are) and reads the clock
//! once. `serve` is one loop with two await points (the try, the backoff)
//! and plain functions around them: nesting an async fn per level (model,
//! try, verdict) cost about 900 instructions per request under callgrind.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response};
use tokio::time::{Instant, sleep_until};

use super::{Routed, millis};
use crate::auth::Caller;
use crate::body::ResponseBody;
use crate::error::{GatewayError, RateLine, Shape};
use crate::gateway::Gateway;
use crate::observe::metrics::FallbackReason;
use crate::policy::{Demand, Ticket};
use crate::provider::openai;
use crate::table::{Model, ModelId};
use crate::upstream::balance::{self, LoadView, Tried};
use crate::upstream::breaker::Admission;
use crate::upstream::lease::log_transition;
use crate::upstream::retry::{self, Delay, Fault, counts_against_breaker};
use crate::upstream::rng::Rng;
use crate::upstream::{self, Lease};

/// The model-routed endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ChatCompletions,
    Messages,
    CountTokens,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Self::ChatCompletions => "/v1/chat/completions",
            Self::Messages => "/v1/messages",
            Self::CountTokens => "/v1/messages/count_tokens",
        }
    }

    fn served_by(self, model: &Model) -> bool {
        match self {
            Self::ChatCompletions => model.endpoints.chat,
            Self::Messages | Self::CountTokens => model.endpoints.messages,
        }
    }
}

/// Most models one request visits (the requested one and its fallbacks);
/// cycles are build errors, this only bounds the work.
const MAX_MODELS: usize = 16;

/// Serves one model-routed request; sets `resolved` as soon as the model is
/// known (for the request log).
pub async fn serve(
    gateway: &'static Gateway,
    (endpoint, caller): (Endpoint, Caller),
    (client_headers, body, request_id): (HeaderMap, Bytes, &HeaderValue),
    resolved: &mut Option<ModelId>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let head = openai::parse(&body)?;
    let requested = (gateway.config.resolve_model)(&head.model)
        .and_then(|id| gateway.config.model(id))
        .ok_or_else(|| GatewayError::ModelNotFound(head.model.to_string()))?;
    *resolved = Some(requested.id);
    // Compiled access: one bit test. Fallbacks are the operator's routing,
    // so only the requested model is checked.
    if !caller.may_use(requested.id) {
        return Err(GatewayError::ModelNotAllowed {
            model: requested.name,
        });
    }
    if !endpoint.served_by(requested) {
        return Err(GatewayError::EndpointNotServed {
            model: requested.name,
            endpoint: endpoint.path(),
        });
    }
    within_model_limits(requested, &head)?;
    // One clock read for the quotas and the deadline.
    let now = Instant::now();
    let ticket = match endpoint {
        Endpoint::ChatCompletions | Endpoint::Messages if gateway.quotas.active() => {
            let quotas = &gateway.quotas;
            // Parsed only when a token bucket or a budget will use it.
            let max_tokens = quotas.counts_tokens().then(|| head.max_tokens()).flatten();
            let demand = Demand::estimate(body.len(), max_tokens, requested);
            // Local quotas are plain code; only a shared one awaits Redis.
            let mut ticket = quotas.admit(&caller, requested, demand, now.into_std())?;
            if ticket.has_shared() {
                quotas.admit_shared(&caller, requested, &mut ticket).await?;
            }
            Some(ticket)
        }
        _ => None,
    };
    let mut this = Request {
        gateway,
        client_headers: Some(client_headers),
        replay: Vec::new(),
        span: head.model_span,
        stream: head.stream,
        body,
        request_id,
        deadline: now + requested.deadline,
        first_try: Some(now),
        rate_lines: ticket.as_ref().and_then(Ticket::lines),
        ticket,
        shape: match endpoint {
            Endpoint::ChatCompletions => Shape::OpenAi,
            _ => Shape::Anthropic,
        },
    };
    // The whole walk is this one loop with two await points (the try, the
    // backoff): every step around them is a plain function, so a request
    // whose first try succeeds pays for no nested state machines.
    let mut plan = Plan::new(requested);
    let mut last: Option<Failed> = None;
    // Seeded on first use: a single-deployment model's first try draws nothing.
    let mut rng: Option<Rng> = None;
    while let Some((model, reason)) = plan.next(gateway, endpoint) {
        if let Some((from, reason)) = reason {
            this.note_fallback(from, model, reason);
        }
        let later = plan.has_more() || !model.fallbacks.is_empty();
        let (mut tried, mut avoid) = (Tried::NONE, Tried::NONE);
        let mut step = Step::Spent;
        for attempt in 1..=model.retry.attempts {
            // The request's first try starts when its deadline was set: one clock read.
            let now = this.first_try.unwrap_or_else(Instant::now);
            if now >= this.deadline {
                break;
            }
            let Some((index, admission)) = this.choose(model, (tried, &mut avoid), &mut rng, now)
            else {
                break;
            };
            tried = tried.with(index);
            let more = later
                || attempt < model.retry.attempts
                || !model.context_window_fallbacks.is_empty();
            let (mut routed, headers) = this.prepare(model, index, admission, more)?;
            let answer = match endpoint {
                Endpoint::ChatCompletions => {
                    super::chat::try_once(gateway, &mut routed, headers, request_id).await
                }
                Endpoint::Messages => {
                    super::messages::try_once(gateway, &mut routed, headers, request_id).await
                }
                Endpoint::CountTokens => {
                    let once = super::messages::count_tokens_once;
                    once(gateway, &mut routed, headers, request_id).await
                }
            };
            if let Some(replay) = routed.replay.take() {
                this.replay = replay;
            }
            if let Some(ticket) = routed.ticket.take() {
                this.ticket = Some(ticket);
            }
            let failed = match judge(answer, routed.lease.take()) {
                Outcome::Done(answer) => return this.done(answer),
                Outcome::Failed(failed) => failed,
            };
            let retry_after = failed.retry_after;
            step = after_failure(model, failed, &mut last);
            let Step::Retry = step else {
                break;
            };
            step = Step::Spent;
            if attempt == model.retry.attempts {
                break;
            }
            let rng = rng.get_or_insert_with(Rng::thread);
            match retry::delay(&model.retry, u32::from(attempt), retry_after, rng) {
                Delay::Wait(wait) => {
                    let until = Instant::now() + wait;
                    if until >= this.deadline {
                        break;
                    }
                    sleep_until(until).await;
                }
                // Its Retry-After is longer than we wait: go elsewhere now.
                Delay::SwitchNow => avoid = avoid.with(index),
            }
            this.note_retry(model, attempt + 1);
        }
        match step {
            Step::Answered(answer) => return this.done(answer),
            Step::ContextWindow => plan.context_window(model),
            Step::Spent | Step::Retry => plan.exhausted(model),
        }
        if Instant::now() >= this.deadline {
            break;
        }
    }
    let answer = this.give_up(requested, last);
    this.done(answer)
}

/// The model's per-request limits (`max_messages`, `max_tokens`), if configured.
fn within_model_limits(model: &Model, head: &openai::ChatHead<'_>) -> Result<(), GatewayError> {
    if let Some(max) = model.max_tokens
        && let Some(asked) = head.max_tokens()
        && asked > u64::from(max)
    {
        return Err(GatewayError::InvalidField {
            param: "max_tokens",
            message: format!(
                "max_tokens is {asked}, above the {max} this gateway allows per request for model `{}`.",
                model.name
            ),
        });
    }
    if let Some(max) = model.max_messages {
        let sent = head.message_count();
        if sent > max as usize {
            return Err(GatewayError::InvalidField {
                param: "messages",
                message: format!(
                    "The request sends {sent} messages, above the {max} this gateway allows per request for model `{}`.",
                    model.name
                ),
            });
        }
    }
    Ok(())
}

/// One request on its way through models and deployments.
struct Request<'a> {
    gateway: &'static Gateway,
    /// The client's headers until the first try takes them.
    client_headers: Option<HeaderMap>,
    /// What a later try forwards again (set aside by the first try).
    replay: Vec<(http::HeaderName, HeaderValue)>,
    span: std::ops::Range<usize>,
    stream: bool,
    body: Bytes,
    request_id: &'a HeaderValue,
    deadline: Instant,
    /// The request's share of its limits and budgets until a try takes it.
    ticket: Option<Ticket>,
    /// The tightest rate-limit buckets at admission, for the answer's headers.
    rate_lines: Option<[Option<RateLine>; 2]>,
    /// The caller's protocol (header names).
    shape: Shape,
    /// When the request's deadline was set: the first try's start.
    first_try: Option<Instant>,
}

/// What a failed try leaves for the final answer if nothing better comes.
struct Failed {
    /// The answer to give (an upstream error in the client's shape), or the gateway's error.
    answer: Result<Response<ResponseBody>, GatewayError>,
    fault: Fault,
    retry_after: Option<std::time::Duration>,
    context_window: bool,
}

/// How the tries at one model ended.
enum Step {
    /// The request is answered (a success, or an error another try would repeat).
    Answered(Result<Response<ResponseBody>, GatewayError>),
    /// Tries spent or nothing available: on to the fallbacks.
    Spent,
    /// The upstream said the prompt is too long: on to the context-window fallbacks.
    ContextWindow,
    /// Another try at this model is worth it (if any is left).
    Retry,
}

/// What a failed try at `model` leads to; `last` keeps it for the final
/// answer if nothing better comes.
fn after_failure(model: &Model, failed: Failed, last: &mut Option<Failed>) -> Step {
    if failed.context_window {
        if model.context_window_fallbacks.is_empty() {
            return Step::Answered(failed.answer);
        }
        *last = Some(failed);
        return Step::ContextWindow;
    }
    if !counts_against_breaker(failed.fault) {
        // The upstream refused the request itself: another try would too.
        return Step::Answered(failed.answer);
    }
    let retryable = retry::retryable(&model.retry, failed.fault);
    *last = Some(failed);
    if retryable { Step::Retry } else { Step::Spent }
}

/// How one try ended.
enum Outcome {
    /// An answer to return: a success, or an error not worth another try.
    Done(Result<Response<ResponseBody>, GatewayError>),
    Failed(Failed),
}

impl Request<'_> {
    fn note_retry(&self, model: &'static Model, attempt: u8) {
        self.gateway.metrics.record_retry(model.id);
        tracing::info!(
            event = "request.retry",
            request_id = self.request_id.to_str().unwrap_or_default(),
            model = model.name,
            attempt,
        );
    }

    /// A deployment of `model` whose breaker admits a try, by the model's
    /// balance policy; deployments the breaker rejects (or `avoid`) are left
    /// out. A retry goes to a deployment this request has not tried yet if
    /// there is one at any priority, else to a tried one again.
    fn choose(
        &self,
        model: &'static Model,
        (tried, avoid): (Tried, &mut Tried),
        rng: &mut Option<Rng>,
        now: Instant,
    ) -> Option<(usize, Admission)> {
        // Most models have one deployment: no balancer, no view.
        if let [only] = model.deployments {
            let usable = !avoid.contains(0) && self.gateway.deployment_available(only, now);
            return usable
                .then(|| self.admit(model, only, now))
                .flatten()
                .map(|admission| (0, admission));
        }
        if tried != Tried::NONE {
            let mut untried = avoid.union(tried);
            if let Some(found) = self.choose_among(model, tried, &mut untried, rng, now) {
                return Some(found);
            }
        }
        self.choose_among(model, tried, avoid, rng, now)
    }

    fn choose_among(
        &self,
        model: &'static Model,
        tried: Tried,
        avoid: &mut Tried,
        rng: &mut Option<Rng>,
        now: Instant,
    ) -> Option<(usize, Admission)> {
        // Each round either returns or marks one more deployment: bounded.
        for _ in 0..=model.deployments.len() {
            let view = View {
                gateway: self.gateway,
                model,
                now,
                avoid: *avoid,
            };
            let index = balance::pick(
                model.deployments,
                model.balance,
                &view,
                tried,
                rng.get_or_insert_with(Rng::thread),
            )?;
            let deployment = model.deployments.get(index)?;
            match self.admit(model, deployment, now) {
                Some(admission) => return Some((index, admission)),
                None => *avoid = avoid.with(index),
            }
        }
        None
    }

    /// The breaker's admission for a try at `deployment` (`None`: rejected),
    /// logging the open -> half-open transition this admission made.
    fn admit(
        &self,
        model: &'static Model,
        deployment: &'static crate::table::Deployment,
        now: Instant,
    ) -> Option<Admission> {
        let upstream = self.gateway.config.upstream(deployment.upstream)?;
        let state = self.gateway.fleet.deployment(deployment.id)?;
        let (admission, transition) = state.breaker.admit_with_transition(&upstream.breaker, now);
        if let Some(transition) = transition {
            let route = (model, deployment, upstream);
            log_transition(&self.gateway.metrics, route, transition, None);
        }
        (admission != Admission::Rejected).then_some(admission)
    }

    /// Everything a try at `model.deployments[index]` needs: its lease
    /// (started), the body with the deployment's model name, and the
    /// client's headers (the first try takes the client's own map; when
    /// another try may follow, what it would forward is set aside while its
    /// request is built, `Routed::replay`, with no copy of the map).
    fn prepare(
        &mut self,
        model: &'static Model,
        index: usize,
        admission: Admission,
        more: bool,
    ) -> Result<(Routed, HeaderMap), GatewayError> {
        let gateway = self.gateway;
        let unavailable = || GatewayError::NoDeploymentAvailable { model: model.name };
        let deployment = model.deployments.get(index).ok_or_else(unavailable)?;
        let state = gateway
            .fleet
            .deployment(deployment.id)
            .ok_or_else(unavailable)?;
        let at = usize::from(deployment.upstream.0);
        let (Some(upstream), Some(target)) =
            (gateway.config.upstreams.get(at), gateway.targets.get(at))
        else {
            return Err(unavailable());
        };
        let started = self.first_try.take().unwrap_or_else(Instant::now);
        let lease = Lease::start(
            (model, deployment, upstream),
            state,
            &gateway.metrics,
            (admission, started),
        );
        let spliced = match gateway
            .upstream_model_json
            .get(usize::from(deployment.id.0))
        {
            Some(name) => openai::rewrite_model(self.body.clone(), self.span.clone(), name),
            None => self.body.clone(),
        };
        let (headers, replay) = match self.client_headers.take() {
            Some(client) => (client, more.then(Vec::new)),
            None => (upstream::replayed(&self.replay), None),
        };
        let routed = Routed {
            model,
            deployment,
            upstream,
            target,
            spliced,
            stream: self.stream,
            deadline: self.deadline,
            lease: Some(lease),
            replay,
            ticket: self.ticket.take(),
        };
        Ok((routed, headers))
    }

    fn note_fallback(&self, from: &'static Model, to: &'static Model, reason: FallbackReason) {
        self.gateway.metrics.record_fallback(from.id, reason);
        tracing::warn!(
            event = "request.fallback",
            request_id = self.request_id.to_str().unwrap_or_default(),
            from = from.name,
            to = to.name,
            reason = match reason {
                FallbackReason::Exhausted => "exhausted",
                FallbackReason::ContextWindow => "context_window",
            },
        );
    }

    /// Every model is spent: the last failure's answer, or why nothing was tried.
    /// The answer leaves: a successful one gets the rate-limit headers; a
    /// ticket still here (no try consumed it) gives its tokens and cost back
    /// unless the answer succeeded (its usage was not reported: the
    /// estimate stands).
    fn done(
        &mut self,
        answer: Result<Response<ResponseBody>, GatewayError>,
    ) -> Result<Response<ResponseBody>, GatewayError> {
        let succeeded = matches!(&answer, Ok(response) if response.status().is_success());
        if let Some(ticket) = self.ticket.take()
            && !succeeded
        {
            ticket.refund();
        }
        let mut answer = answer;
        if let (Ok(response), Some(lines)) = (&mut answer, &self.rate_lines) {
            for line in lines.iter().flatten() {
                line.write(response.headers_mut(), self.shape);
            }
        }
        answer
    }

    fn give_up(
        &self,
        requested: &'static Model,
        last: Option<Failed>,
    ) -> Result<Response<ResponseBody>, GatewayError> {
        match last {
            Some(failed) => failed.answer,
            None if Instant::now() >= self.deadline => Err(GatewayError::DeadlineExceeded {
                model: requested.name,
                deadline_ms: millis(requested.deadline),
            }),
            None => {
                self.gateway.metrics.record_no_deployment(requested.id);
                Err(self.unavailable(requested))
            }
        }
    }
}

impl Request<'_> {
    /// Why no deployment was tried: every one disabled at startup (a missing
    /// optional secret) says so; otherwise none could take traffic now.
    fn unavailable(&self, requested: &'static Model) -> GatewayError {
        let config = self.gateway.config;
        let disabled = |upstream: crate::table::UpstreamId| {
            matches!(
                self.gateway.targets.get(usize::from(upstream.0)),
                Some(crate::upstream::Target::Disabled(_))
            )
        };
        match requested.deployments.first() {
            Some(first) if requested.deployments.iter().all(|d| disabled(d.upstream)) => {
                GatewayError::UpstreamDisabled {
                    upstream: config
                        .upstream(first.upstream)
                        .map_or("unknown", |u| u.name),
                }
            }
            _ => GatewayError::NoDeploymentAvailable {
                model: requested.name,
            },
        }
    }
}

/// Classifies a try's answer and settles its lease (unless a stream's relay took it).
fn judge(answer: Result<Response<ResponseBody>, GatewayError>, lease: Option<Lease>) -> Outcome {
    // A lease still here belongs to a whole answer (a stream's relay took its own).
    let settle = move |result: Result<(), Fault>| {
        if let Some(lease) = lease {
            lease.settle_whole(result);
        }
    };
    let response = match answer {
        Ok(response) if response.status().as_u16() < 400 => {
            settle(Ok(()));
            return Outcome::Done(Ok(response));
        }
        Ok(response) => response,
        Err(error) => {
            let fault = match &error {
                GatewayError::UpstreamUnreachable { .. } => Fault::Connect,
                GatewayError::UpstreamTimeout { .. } => Fault::Timeout,
                GatewayError::UpstreamStreamFailed { .. } => Fault::StreamCut,
                GatewayError::UpstreamInvalid { .. } => Fault::Status(502),
                // The client's mistake, a translation refusal, or the request's
                // deadline (not the upstream's fault, and nothing is left to
                // try): the lease drops unsettled (neutral).
                _ => return Outcome::Done(Err(error)),
            };
            settle(Err(fault));
            return Outcome::Failed(Failed {
                answer: Err(error),
                fault,
                retry_after: None,
                context_window: false,
            });
        }
    };
    let status = response.status().as_u16();
    let fault = Fault::Status(status);
    settle(Err(fault));
    let retry_after = retry::retry_after(response.headers(), std::time::SystemTime::now());
    let (parts, body) = response.into_parts();
    // Only a small, whole error body is read again here (never a stream).
    let (body, context_window) = match body {
        ResponseBody::Full(full) if status == 400 || status == 413 => {
            let bytes = whole_bytes(full);
            let context_window = says_context_window_exceeded(&bytes);
            (ResponseBody::full(bytes), context_window)
        }
        body => (body, false),
    };
    Outcome::Failed(Failed {
        answer: Ok(Response::from_parts(parts, body)),
        fault,
        retry_after,
        context_window,
    })
}

/// The bytes of a whole body, which is ready at once (`Full` never waits):
/// polled once with a no-op waker instead of awaited, so judging an answer
/// stays a plain function.
fn whole_bytes(mut full: http_body_util::Full<Bytes>) -> Bytes {
    use http_body::Body as _;
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(&mut full).poll_frame(&mut context) {
        std::task::Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => Bytes::new(),
    }
}

/// Whether an upstream's 400 says the prompt does not fit the context
/// window: OpenAI's `context_length_exceeded` code and message ("maximum
/// context length"), Anthropic's "prompt is too long", and the wording of
/// common OpenAI-compatible servers (vLLM, Ollama).
fn says_context_window_exceeded(body: &[u8]) -> bool {
    const MARKERS: [&[u8]; 5] = [
        b"context_length_exceeded",
        b"maximum context length",
        b"prompt is too long",
        b"context window",
        b"exceeds the context",
    ];
    let lower = body.to_ascii_lowercase();
    MARKERS
        .iter()
        .any(|marker| memchr::memmem::find(&lower, marker).is_some())
}

/// The balancer's view of one model's deployments now.
struct View {
    gateway: &'static Gateway,
    model: &'static Model,
    now: Instant,
    avoid: Tried,
}

impl LoadView for View {
    fn available(&self, index: usize) -> bool {
        !self.avoid.contains(index)
            && self
                .model
                .deployments
                .get(index)
                .is_some_and(|d| self.gateway.deployment_available(d, self.now))
    }

    fn in_flight(&self, index: usize) -> u32 {
        self.state(index).map_or(0, |s| {
            s.in_flight.load(std::sync::atomic::Ordering::Relaxed)
        })
    }

    /// Decayed by idleness, so a deployment left alone gets tried again.
    fn ewma_micros(&self, index: usize) -> u64 {
        self.state(index)
            .map_or(0, |s| s.latency.get_at(s.ms(self.now)))
    }
}

impl View {
    fn state(&self, index: usize) -> Option<&'static crate::upstream::fleet::DeploymentState> {
        let deployment = self.model.deployments.get(index)?;
        self.gateway.fleet.deployment(deployment.id)
    }
}

/// The order models are visited in: the requested one, then (once it is
/// spent) its fallbacks in order, then theirs; context-window fallbacks go
/// first when an upstream said the prompt is too long. Each model once.
struct Plan {
    next: Option<(&'static Model, Option<(&'static Model, FallbackReason)>)>,
    queue: std::collections::VecDeque<(ModelId, &'static Model, FallbackReason)>,
    /// The requested model, then every fallback visited (allocated only once one is).
    requested: ModelId,
    visited: Vec<ModelId>,
}

impl Plan {
    fn new(requested: &'static Model) -> Self {
        Self {
            next: Some((requested, None)),
            queue: std::collections::VecDeque::new(),
            requested: requested.id,
            visited: Vec::new(),
        }
    }

    /// The next model to try, with the model it falls back from and why.
    #[allow(clippy::type_complexity, reason = "a private iterator step")]
    fn next(
        &mut self,
        gateway: &Gateway,
        endpoint: Endpoint,
    ) -> Option<(&'static Model, Option<(&'static Model, FallbackReason)>)> {
        if let Some(first) = self.next.take() {
            return Some(first);
        }
        while let Some((id, from, reason)) = self.queue.pop_front() {
            if id == self.requested
                || self.visited.contains(&id)
                || self.visited.len() >= MAX_MODELS
            {
                continue;
            }
            self.visited.push(id);
            // A fallback that does not serve this endpoint is a build error; skip, never fail.
            match gateway.config.model(id) {
                Some(model) if endpoint.served_by(model) => {
                    return Some((model, Some((from, reason))));
                }
                _ => continue,
            }
        }
        None
    }

    /// Whether models are queued after the current one.
    fn has_more(&self) -> bool {
        !self.queue.is_empty()
    }

    /// `model`'s tries are spent: its fallbacks join the end of the queue.
    fn exhausted(&mut self, model: &'static Model) {
        for id in model.fallbacks {
            self.queue
                .push_back((*id, model, FallbackReason::Exhausted));
        }
    }

    /// The prompt is too long for `model`: its context-window fallbacks go first.
    fn context_window(&mut self, model: &'static Model) {
        for id in model.context_window_fallbacks.iter().rev() {
            self.queue
                .push_front((*id, model, FallbackReason::ContextWindow));
        }
    }
}
