//! Streams translated between protocols on their way through the relay
//! (`relay.rs`): an Anthropic upstream's events as OpenAI chunks for a chat
//! client, and OpenAI chunks (an OpenAI-compatible upstream's or the mock's)
//! as Anthropic events for a Messages client, with `ping`s during upstream
//! silence. The translation itself is `translate/`; this file adapts it to
//! the relay's [`Wire`].

use std::time::Duration;

use bytes::Bytes;

use crate::provider::openai::Usage;
use crate::provider::relay::Wire;
use crate::translate::{ChatSseToMessages, MessagesSseToChat};

/// Upstream silence after which a translated Anthropic stream gets a `ping`
/// (Anthropic's own API pings about every 15 s; Claude Code gives up after
/// five minutes without bytes).
const PING_EVERY: Duration = Duration::from_secs(15);

/// Anthropic upstream -> OpenAI chat client.
pub struct ToChat(pub MessagesSseToChat);

/// OpenAI-format upstream -> Anthropic Messages client.
pub struct ToMessages(pub ChatSseToMessages);

/// (prompt, completion, cache read, cache write) as the translators count them.
fn usage((prompt_tokens, completion_tokens, cache_read, _): (u64, u64, u64, u64)) -> Option<Usage> {
    (prompt_tokens > 0 || completion_tokens > 0).then_some(Usage {
        prompt_tokens,
        completion_tokens,
        cached_prompt_tokens: cache_read,
    })
}

fn non_empty(bytes: Bytes) -> Option<Bytes> {
    (!bytes.is_empty()).then_some(bytes)
}

impl Wire for ToChat {
    fn frame(&mut self, frame: Bytes) -> Option<Bytes> {
        non_empty(self.0.feed(&frame))
    }

    fn done(&self) -> bool {
        self.0.finished()
    }

    fn usage(&self) -> Option<Usage> {
        usage(self.0.usage())
    }

    fn error_event(&mut self, code: &str, message: &str) -> Bytes {
        self.0.cut(code, message)
    }
}

impl Wire for ToMessages {
    fn frame(&mut self, frame: Bytes) -> Option<Bytes> {
        non_empty(self.0.feed(&frame))
    }

    fn done(&self) -> bool {
        self.0.finished()
    }

    fn usage(&self) -> Option<Usage> {
        usage(self.0.usage())
    }

    fn error_event(&mut self, code: &str, message: &str) -> Bytes {
        self.0.cut(code, message)
    }

    fn ping(&mut self) -> Option<(Duration, Bytes)> {
        Some((PING_EVERY, ChatSseToMessages::ping()))
    }
}
