//! Golden fixtures and properties for the translators (see `fixtures/`).
