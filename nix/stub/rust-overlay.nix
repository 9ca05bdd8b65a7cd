# Stand-in for the rust-overlay input (nix/stub/eval.nix): adds nothing.
final: prev: { }
