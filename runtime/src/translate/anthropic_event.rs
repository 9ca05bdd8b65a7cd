//! The typed, borrowed view of one Anthropic Messages stream event
//! (docs.anthropic.com/en/docs/build-with-claude/streaming): one flat shape
//! for every event type, members optional, strings kept as raw JSON
//! literals so deltas are copied, never unescaped.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::common::AnthropicUsage;

#[derive(Deserialize)]
pub struct Event<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(borrow, default)]
    pub message: Option<StartMessage<'a>>,
    #[serde(borrow, default)]
    pub content_block: Option<BlockStart<'a>>,
    #[serde(borrow, default)]
    pub delta: Option<Delta<'a>>,
    #[serde(default)]
    pub usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
pub struct StartMessage<'a> {
    #[serde(borrow, default)]
    pub id: Option<&'a RawValue>,
    #[serde(default)]
    pub usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
pub struct BlockStart<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub thinking: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
pub struct Delta<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub partial_json: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub thinking: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub signature: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub stop_reason: Option<Cow<'a, str>>,
}
