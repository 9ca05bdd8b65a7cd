//! OpenAI image and file content parts as Anthropic image and document
//! blocks: a base64 `data:` URL becomes a base64 source (borrowed, not
//! copied, when the request had no escapes in it), an http(s) URL a url
//! source; image types Anthropic takes are jpeg, png, gif and webp; files
//! must be base64 PDFs. Anything else is refused with a 400 naming the part.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::TranslateError;
use super::chat_messages::Block;
use super::common::Notes;
use super::json;

#[derive(Deserialize)]
pub struct ImageUrl<'a> {
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default)]
    detail: Option<IgnoredAny>,
}

#[derive(Deserialize)]
pub struct FilePart<'a> {
    #[serde(borrow, default)]
    file_data: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum Source<'a> {
    Base64 {
        #[serde(rename = "type")]
        kind: &'static str,
        media_type: Cow<'a, str>,
        data: Cow<'a, str>,
    },
    Url {
        #[serde(rename = "type")]
        kind: &'static str,
        url: Cow<'a, str>,
    },
}

pub fn image<'a>(
    image: Option<ImageUrl<'a>>,
    notes: &mut Notes,
) -> Result<Block<'a>, TranslateError> {
    const PARAM: &str = "messages[].content[].image_url";
    let image = image
        .ok_or_else(|| TranslateError::invalid(PARAM, "an image_url part needs `image_url`"))?;
    if image.detail.is_some() {
        notes.drop("messages[].content[].image_url.detail");
    }
    let url = image.url;
    let source = if let Some((media, data)) = json::data_url(&url) {
        let media_type = json::slice(&url, media);
        if !json::is_image_media(&media_type) {
            return Err(TranslateError::unsupported(
                PARAM,
                format!(
                    "images of type `{media_type}` are not supported (jpeg, png, gif, webp are)"
                ),
            ));
        }
        Source::Base64 {
            kind: "base64",
            data: json::slice(&url, data),
            media_type,
        }
    } else if url.starts_with("https://") || url.starts_with("http://") {
        Source::Url { kind: "url", url }
    } else {
        return Err(TranslateError::unsupported(
            PARAM,
            "an image must be a base64 data: URL or an http(s) URL",
        ));
    };
    Ok(Block::Media {
        kind: "image",
        source,
    })
}

pub fn document<'a>(file: Option<FilePart<'a>>) -> Result<Block<'a>, TranslateError> {
    const PARAM: &str = "messages[].content[].file";
    let Some(data_url) = file.and_then(|f| f.file_data) else {
        return Err(TranslateError::unsupported(
            PARAM,
            "only files sent as `file_data` are supported for this model",
        ));
    };
    match json::data_url(&data_url) {
        Some((media, data)) if data_url.get(media.clone()) == Some("application/pdf") => {
            Ok(Block::Media {
                kind: "document",
                source: Source::Base64 {
                    kind: "base64",
                    media_type: json::slice(&data_url, media),
                    data: json::slice(&data_url, data),
                },
            })
        }
        _ => Err(TranslateError::unsupported(
            PARAM,
            "only base64 PDF files are supported for this model",
        )),
    }
}
