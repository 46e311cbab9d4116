//! `vigil lsp`: a Language Server (LSP 3.17) over stdio for Sigma files. Diagnostics are `vigil check`'s (the
//! front end, plus the conventions the nearest vigil.yml asks for), published on open and on every change; the
//! editor also gets completion (modifiers valid after the chain, log-source values, fields of the rule's
//! category, detection names in conditions), hover, go to definition, formatting (`vigil fmt`) and quick fixes.
//!
//! ```text
//! stdin --lsp_server--> requests/notifications --features.rs--> responses, publishDiagnostics --> stdout
//! ```

mod document;
mod features;
mod vocabulary;

use crate::cli::LspArgs;
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    notification, request, CodeActionProviderCapability, CompletionOptions, HoverProviderCapability, OneOf,
    ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
};
use std::collections::HashMap;

pub fn run(_args: &LspArgs) -> u8 {
    let (connection, threads) = Connection::stdio();
    let status = match serve(&connection) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("vigil lsp: {message}");
            1
        }
    };
    drop(connection);
    let _ = threads.join();
    status
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["|".into(), ":".into(), " ".into()]),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

fn serve(connection: &Connection) -> Result<(), String> {
    let capabilities = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let initialize = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": {"name": "vigil", "version": env!("CARGO_PKG_VERSION")},
    });
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    connection.initialize_finish(id, initialize).map_err(|e| e.to_string())?;
    let mut open: HashMap<String, String> = HashMap::new();
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request).map_err(|e| e.to_string())? {
                    return Ok(());
                }
                let response = answer(&request, &open);
                connection.sender.send(Message::Response(response)).map_err(|e| e.to_string())?;
            }
            Message::Notification(notification) => {
                if let Some(uri) = changed(&notification, &mut open) {
                    let params = features::diagnostics(&uri, open.get(&uri).map_or("", String::as_str));
                    let published = Notification::new(notification::PublishDiagnostics::METHOD.into(), params);
                    connection.sender.send(Message::Notification(published)).map_err(|e| e.to_string())?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// Keeps the open documents' text; the URI whose diagnostics are to be published.
fn changed(notification: &Notification, open: &mut HashMap<String, String>) -> Option<String> {
    let params = &notification.params;
    let uri = params["textDocument"]["uri"].as_str()?.to_string();
    match notification.method.as_str() {
        notification::DidOpenTextDocument::METHOD => {
            open.insert(uri.clone(), params["textDocument"]["text"].as_str()?.to_string());
            Some(uri)
        }
        notification::DidChangeTextDocument::METHOD => {
            // Full synchronisation: the last change holds the whole text.
            let text = params["contentChanges"].as_array()?.last()?["text"].as_str()?.to_string();
            open.insert(uri.clone(), text);
            Some(uri)
        }
        notification::DidCloseTextDocument::METHOD => {
            open.remove(&uri);
            None
        }
        _ => None,
    }
}

fn answer(request: &Request, open: &HashMap<String, String>) -> Response {
    let params = &request.params;
    let uri = params["textDocument"]["uri"].as_str().unwrap_or_default();
    let Some(text) = open.get(uri) else {
        return match request.method.as_str() {
            request::Completion::METHOD
            | request::HoverRequest::METHOD
            | request::GotoDefinition::METHOD
            | request::Formatting::METHOD
            | request::CodeActionRequest::METHOD => Response::new_ok(request.id.clone(), serde_json::Value::Null),
            _ => unknown(request),
        };
    };
    let position = serde_json::from_value(params["position"].clone()).unwrap_or_default();
    let result = match request.method.as_str() {
        request::Completion::METHOD => serde_json::to_value(features::completion(text, position)),
        request::HoverRequest::METHOD => serde_json::to_value(features::hover(text, position)),
        request::GotoDefinition::METHOD => serde_json::to_value(features::definition(uri, text, position)),
        request::Formatting::METHOD => serde_json::to_value(features::formatting(text)),
        request::CodeActionRequest::METHOD => serde_json::to_value(features::code_actions(uri, text, params)),
        _ => return unknown(request),
    };
    match result {
        Ok(value) => Response::new_ok(request.id.clone(), value),
        Err(e) => Response::new_err(request.id.clone(), lsp_server::ErrorCode::InternalError as i32, e.to_string()),
    }
}

fn unknown(request: &Request) -> Response {
    Response::new_err(
        request.id.clone(),
        lsp_server::ErrorCode::MethodNotFound as i32,
        format!("vigil lsp does not answer {}", request.method),
    )
}
