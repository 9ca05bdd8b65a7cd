//! Emitting `TOOLS` (sorted by name): each tool's builtin, description, its
//! argument schema as nested `table::Schema` literals, and the schema's JSON
//! text for `GET /v1/tools`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit::len;
use crate::ir::{Ir, Tool, ToolSchema};

/// `pub static TOOLS: [Tool; N]`.
pub fn tools(ir: &Ir) -> TokenStream {
    let n = len(ir.tools.len());
    let items = ir.tools.iter().zip(0u16..).map(|(tool, id): (&Tool, u16)| {
        let (name, description, json) = (&tool.name, &tool.description, &tool.parameters_json);
        let builtin = format_ident!("{}", tool.builtin);
        let parameters = schema(&tool.parameters);
        quote!(::gateway_runtime::table::Tool {
            id: ::gateway_runtime::table::ToolId(#id),
            name: #name,
            description: #description,
            kind: ::gateway_runtime::table::ToolKind::Builtin(::gateway_runtime::table::Builtin::#builtin),
            parameters: &#parameters,
            parameters_json: #json
        })
    });
    quote! {
        /// Tools (tools.yaml), sorted by name; `ToolId(i)` is `TOOLS[i]`.
        pub static TOOLS: [::gateway_runtime::table::Tool; #n] = [#(#items),*];
    }
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
