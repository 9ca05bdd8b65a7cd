//! Emitting an `Upstream`'s `breaker` (`table::Breaker`) and
//! `health_check` (`Option<table::HealthCheck>` with its `HealthProbe`).
//! Data only, decided in `lower/`.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::emit::ms;
use crate::ir::{Breaker, HealthCheck, HealthProbe};

/// `::gateway_runtime::table::Breaker { .. }`.
pub fn breaker(b: &Breaker) -> TokenStream {
    let enabled = b.enabled;
    let failures = Literal::u32_unsuffixed(b.consecutive_failures);
    let permille = Literal::u16_unsuffixed(b.error_ratio_permille);
    let (window, open_for) = (ms(b.window_ms), ms(b.open_for_ms));
    let min_requests = Literal::u32_unsuffixed(b.min_requests);
    let probes = Literal::u32_unsuffixed(b.half_open_probes);
    quote! {
        ::gateway_runtime::table::Breaker {
            enabled: #enabled,
            consecutive_failures: #failures,
            error_ratio_permille: #permille,
            window: #window,
            min_requests: #min_requests,
            open_for: #open_for,
            half_open_probes: #probes,
        }
    }
}

/// `Some(::gateway_runtime::table::HealthCheck { .. })` or `None`.
pub fn health_check(h: Option<&HealthCheck>) -> TokenStream {
    let Some(h) = h else {
        return quote!(::core::option::Option::None);
    };
    let (interval, timeout) = (ms(h.interval_ms), ms(h.timeout_ms));
    let probe = match &h.probe {
        HealthProbe::Get(path) => quote!(::gateway_runtime::table::HealthProbe::Get(#path)),
        HealthProbe::Minimal(model) => {
            quote!(::gateway_runtime::table::HealthProbe::Minimal(#model))
        }
    };
    let healthy = Literal::u32_unsuffixed(h.healthy_threshold);
    let unhealthy = Literal::u32_unsuffixed(h.unhealthy_threshold);
    quote! {
        ::core::option::Option::Some(::gateway_runtime::table::HealthCheck {
            interval: #interval,
            timeout: #timeout,
            probe: #probe,
            healthy_threshold: #healthy,
            unhealthy_threshold: #unhealthy,
        })
    }
}
