//! The formatter: AST → canonical text (placeholder until the formatter lands).
