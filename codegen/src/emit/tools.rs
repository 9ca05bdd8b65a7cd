//! Emitting `TOOLS` (sorted by name): each tool's builtin, description, its
//! argument schema as nested `table::Schema` literals, and the schema's JSON
//! text for `GET /v1/tools`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit::len;
use crate::ir::{HttpTool, Ir, McpServer, SecretRef, Tool, ToolRun, ToolSchema};

/// `pub static TOOLS: [Tool; N]`.
pub fn tools(ir: &Ir) -> TokenStream {
    let n = len(ir.tools.len());
    let items = ir.tools.iter().zip(0u16..).map(|(tool, id): (&Tool, u16)| {
        let (name, description, json) = (&tool.name, &tool.description, &tool.parameters_json);
        let kind = kind(&tool.run);
        let parameters = schema(&tool.parameters);
        quote!(::gateway_runtime::table::Tool {
            id: ::gateway_runtime::table::ToolId(#id),
            name: #name,
            description: #description,
            kind: #kind,
            parameters: &#parameters,
            parameters_json: #json
        })
    });
    quote! {
        /// Tools (tools.yaml), sorted by name; `ToolId(i)` is `TOOLS[i]`.
        pub static TOOLS: [::gateway_runtime::table::Tool; #n] = [#(#items),*];
    }
}

/// A `table::ToolKind` literal.
fn kind(run: &ToolRun) -> TokenStream {
    match run {
        ToolRun::Builtin(variant) => {
            let builtin = format_ident!("{}", variant);
            quote!(::gateway_runtime::table::ToolKind::Builtin(::gateway_runtime::table::Builtin::#builtin))
        }
        ToolRun::Http(http) => {
            let http = http_tool(http);
            quote!(::gateway_runtime::table::ToolKind::Http(&#http))
        }
        ToolRun::Mcp(mcp) => {
            let (server, remote, sha) = (usize::from(mcp.server), &mcp.remote_name, &mcp.sha256);
            quote!(::gateway_runtime::table::ToolKind::Mcp(&::gateway_runtime::table::McpTool {
                server: &MCP_SERVERS[#server],
                remote_name: #remote,
                sha256: #sha
            }))
        }
    }
}

/// `pub static MCP_SERVERS: [McpServer; N]` (tools.yaml `mcp_servers`, sorted by name).
pub fn mcp_servers(ir: &Ir) -> TokenStream {
    let n = len(ir.mcp_servers.len());
    let items = ir
        .mcp_servers
        .iter()
        .zip(0u16..)
        .map(|(s, index): (&McpServer, u16)| {
            let name = &s.name;
            let transport = match &s.http {
                Some((url, origin)) => {
                    let hosts = &s.allow_hosts;
                    let allow_private = s.allow_private;
                    let url_env = option(s.url_env.as_ref().map(|v| quote!(#v)));
                    let headers = s.headers.iter().map(|(name, secret)| {
                        let secret = secret_ref(secret);
                        quote!((#name, #secret))
                    });
                    quote!(::gateway_runtime::table::McpTransport::StreamableHttp {
                        url: #url,
                        origin: #origin,
                        url_env: #url_env,
                        allow_hosts: &[#(#hosts),*],
                        allow_private: #allow_private,
                        headers: &[#(#headers),*]
                    })
                }
                None => {
                    let (command, env) = (&s.command, &s.env);
                    quote!(::gateway_runtime::table::McpTransport::Stdio {
                        command: &[#(#command),*],
                        env: &[#(#env),*]
                    })
                }
            };
            let (timeout_ms, max_response_bytes) = (s.timeout_ms, s.max_response_bytes);
            let on_drift = if s.fail_on_drift {
                quote!(::gateway_runtime::table::OnDrift::Fail)
            } else {
                quote!(::gateway_runtime::table::OnDrift::Disable)
            };
            quote!(::gateway_runtime::table::McpServer {
                index: #index,
                name: #name,
                transport: #transport,
                timeout_ms: #timeout_ms,
                max_response_bytes: #max_response_bytes,
                on_drift: #on_drift
            })
        });
    quote! {
        /// MCP servers (tools.yaml `mcp_servers`), sorted by name.
        pub static MCP_SERVERS: [::gateway_runtime::table::McpServer; #n] = [#(#items),*];
    }
}

fn secret_ref(secret: &SecretRef) -> TokenStream {
    match secret {
        SecretRef::Env(v) => quote!(::gateway_runtime::table::SecretRef::Env(#v)),
        SecretRef::File(f) => quote!(::gateway_runtime::table::SecretRef::File(#f)),
    }
}

/// A `table::HttpTool` literal.
fn http_tool(http: &HttpTool) -> TokenStream {
    let method = format_ident!("{}", http.method);
    let (origin, query, hosts) = (&http.origin, &http.query, &http.allow_hosts);
    let (query_arguments, allow_private) = (http.query_arguments, http.allow_private);
    let (timeout_ms, max_response_bytes) = (http.timeout_ms, http.max_response_bytes);
    let path = http.path.iter().map(|(text, arg)| {
        if *arg {
            quote!(::gateway_runtime::table::UrlPiece::Arg(#text))
        } else {
            quote!(::gateway_runtime::table::UrlPiece::Literal(#text))
        }
    });
    let url_env = option(http.url_env.as_ref().map(|v| quote!(#v)));
    let headers = http.headers.iter().map(|(name, secret)| {
        let secret = match secret {
            SecretRef::Env(v) => quote!(::gateway_runtime::table::SecretRef::Env(#v)),
            SecretRef::File(f) => quote!(::gateway_runtime::table::SecretRef::File(#f)),
        };
        quote!((#name, #secret))
    });
    quote!(::gateway_runtime::table::HttpTool {
        method: ::gateway_runtime::table::HttpMethod::#method,
        query_arguments: #query_arguments,
        origin: #origin,
        path: &[#(#path),*],
        query: #query,
        url_env: #url_env,
        allow_hosts: &[#(#hosts),*],
        allow_private: #allow_private,
        headers: &[#(#headers),*],
        timeout_ms: #timeout_ms,
        max_response_bytes: #max_response_bytes
    })
}

/// A `table::Schema` literal.
fn schema(node: &ToolSchema) -> TokenStream {
    match node {
        ToolSchema::Object {
            properties,
            required,
            additional,
        } => {
            let properties = properties.iter().map(|(name, node)| {
                let node = schema(node);
                quote!(::gateway_runtime::table::Property { name: #name, schema: #node })
            });
            quote!(::gateway_runtime::table::Schema::Object {
                properties: &[#(#properties),*],
                required: &[#(#required),*],
                additional: #additional
            })
        }
        ToolSchema::Text {
            max_length,
            allowed,
        } => {
            let max_length = option(max_length.map(|m| quote!(#m)));
            quote!(::gateway_runtime::table::Schema::Text { max_length: #max_length, allowed: &[#(#allowed),*] })
        }
        ToolSchema::Number {
            integer,
            minimum,
            maximum,
        } => {
            let (minimum, maximum) = (option(minimum.map(float)), option(maximum.map(float)));
            quote!(::gateway_runtime::table::Schema::Number { integer: #integer, minimum: #minimum, maximum: #maximum })
        }
        ToolSchema::Boolean => quote!(::gateway_runtime::table::Schema::Boolean),
        ToolSchema::Array { items } => {
            let items = option(items.as_deref().map(|node| {
                let node = schema(node);
                quote!(&#node)
            }));
            quote!(::gateway_runtime::table::Schema::Array { items: #items })
        }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// An `f64` literal; the sign as its own token.
fn float(x: f64) -> TokenStream {
    let literal = Literal::f64_unsuffixed(x.abs());
    if x.is_sign_negative() {
        quote!(-#literal)
    } else {
        quote!(#literal)
    }
}
