//! The protocol side: open documents, and each request answered from a snapshot of them.
//!
//! Documents are synchronised in full (the client sends the whole text on every change):
//! with versions, that is immune to reordering and leaves no incremental-edit state to get
//! wrong. Every computation runs on a blocking thread from an immutable snapshot (texts are
//! shared `Arc<str>`), and a panic there becomes an empty answer instead of a dead server.
//! Diagnostics are published only if the document is still at the version they were
//! computed for, so a slow check never overwrites a newer one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::describe::ParamValues;
use super::graph::{Graph, Overlay};
use super::resolve::{resolve, Target};
use super::{completion, diagnostics, formatting, hover, stdlib, symbols};

#[derive(Clone)]
struct Doc {
    text: Arc<str>,
    version: i32,
    /// Param values from the check of `version`, when it had no errors.
    values: Option<Arc<ParamValues>>,
}

pub struct Backend {
    client: Client,
    docs: Mutex<HashMap<Uri, Doc>>,
    shutdown: Arc<AtomicBool>,
}

/// The name a document is checked under: its path for `file:` URIs (so relative imports
/// resolve), the URI itself otherwise.
fn doc_name(uri: &Uri) -> String {
    if uri.scheme().as_str().eq_ignore_ascii_case("file") {
        if let Some(p) = uri.to_file_path() {
            return p.to_string_lossy().to_string();
        }
    }
    uri.as_str().to_string()
}

fn file_path(uri: &Uri) -> Option<PathBuf> {
    if !uri.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    uri.to_file_path().map(|p| p.to_path_buf())
}

/// Runs `f` on a blocking thread; a panic or a failed join gives `None`.
async fn compute<T: Send + 'static>(f: impl FnOnce() -> Option<T> + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok().flatten()
}

/// A document and everything needed to answer about it without the lock.
struct Snapshot {
    uri: Uri,
    doc: Doc,
    overlay: Overlay,
}

impl Snapshot {
    fn graph(&self) -> Graph {
        Graph::load(&doc_name(&self.uri), self.doc.text.clone(), &self.overlay)
    }
}

impl Backend {
    pub fn new(client: Client, shutdown: Arc<AtomicBool>) -> Backend {
        Backend {
            client,
            docs: Mutex::new(HashMap::new()),
            shutdown,
        }
    }

    fn docs(&self) -> std::sync::MutexGuard<'_, HashMap<Uri, Doc>> {
        // A poisoned lock only means a panic elsewhere; the map itself is still whole.
        self.docs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answers about a position off the lock: `answer` gets the document's snapshot, its
    /// graph and the position as a byte offset into the document.
    async fn at_position<T: Send + 'static>(
        &self,
        p: TextDocumentPositionParams,
        answer: impl FnOnce(&Snapshot, &Graph, usize) -> Option<T> + Send + 'static,
    ) -> Result<Option<T>> {
        let Some(s) = self.snapshot(&p.text_document.uri) else {
            return Ok(None);
        };
        Ok(compute(move || {
            let g = s.graph();
            let root = g.root();
            let offset = root.lines.offset(&root.text, p.position);
            answer(&s, &g, offset)
        })
        .await)
    }

    fn snapshot(&self, uri: &Uri) -> Option<Snapshot> {
        let docs = self.docs();
        let doc = docs.get(uri)?.clone();
        let overlay = docs
            .iter()
            .filter_map(|(u, d)| Some((file_path(u)?, d.text.clone())))
            .collect();
        Some(Snapshot {
            uri: uri.clone(),
            doc,
            overlay,
        })
    }

    fn store(&self, uri: Uri, text: String, version: i32) {
        let mut docs = self.docs();
        if docs.get(&uri).is_some_and(|d| d.version > version) {
            return;
        }
        docs.insert(
            uri,
            Doc {
                text: Arc::from(text),
                version,
                values: None,
            },
        );
    }

    async fn analyse(&self, uri: Uri) {
        let Some(s) = self.snapshot(&uri) else {
            return;
        };
        let version = s.doc.version;
        let Some(a) = compute(move || Some(diagnostics::analyse(&s.uri, &s.graph()))).await else {
            return;
        };
        {
            let mut docs = self.docs();
            match docs.get_mut(&uri) {
                Some(d) if d.version == version => d.values = a.values.map(Arc::new),
                _ => return,
            }
        }
        self.client
            .publish_diagnostics(uri, a.diagnostics, Some(version))
            .await;
    }

    /// Re-checks every open document (a file they import may have changed on disk).
    async fn analyse_all(&self) {
        let uris: Vec<Uri> = self.docs().keys().cloned().collect();
        for uri in uris {
            self.analyse(uri).await;
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, _: InitializeParams) -> Result<InitializeResult> {
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::FULL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "/".into(), "{".into()]),
                    ..Default::default()
                }),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "res".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..Default::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        self.store(d.uri.clone(), d.text, d.version);
        self.analyse(d.uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        self.store(uri.clone(), change.text, params.text_document.version);
        self.analyse(uri.clone()).await;
        // Documents importing this one read its buffer: their diagnostics change with it.
        let others: Vec<Uri> = self.docs().keys().filter(|u| **u != uri).cloned().collect();
        for other in others {
            self.analyse(other).await;
        }
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {
        self.analyse_all().await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.docs().remove(&uri);
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn did_change_watched_files(&self, _: DidChangeWatchedFilesParams) {
        self.analyse_all().await;
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let Some(s) = self.snapshot(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(compute(move || Some(formatting::format(&s.doc.text))).await)
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.at_position(params.text_document_position_params, |s, g, offset| {
            let (markdown, span) = hover::hover(g, offset, s.doc.values.as_deref())?;
            let root = g.root();
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: markdown,
                }),
                range: Some(root.lines.range(&root.text, span)),
            })
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.at_position(params.text_document_position_params, |s, g, offset| {
            let (module, span) = match resolve(g, offset)?.target {
                Target::Decl(f) => (f.module, g.decl(f)?.name_span),
                Target::Module(m) => (m, crate::diagnostic::Span::new(0, 0)),
                _ => return None,
            };
            let m = g.modules.get(module)?;
            let uri = if module == 0 {
                s.uri.clone()
            } else if let Some(name) = &m.std {
                Uri::from_file_path(stdlib::file(name)?)?
            } else {
                Uri::from_file_path(m.path.as_ref()?)?
            };
            let range = m.lines.range(&m.text, span);
            Some(GotoDefinitionResponse::Scalar(Location::new(uri, range)))
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.at_position(params.text_document_position, |_, g, offset| {
            Some(CompletionResponse::Array(completion::complete(g, offset)))
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(s) = self.snapshot(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(compute(move || {
            let g = s.graph();
            let root = g.root();
            Some(DocumentSymbolResponse::Nested(symbols::symbols(
                &root.outline,
                &root.text,
                &root.lines,
            )))
        })
        .await)
    }
}
