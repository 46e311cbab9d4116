#!/usr/bin/env python3
"""Drives `vigil lsp` with a real LSP client (pygls's LanguageClient) over stdio, as an editor does.

usage: client.py VIGIL FOLDER

FOLDER holds the rules to open (written by tests/lsp.rs). Prints one JSON object with what the server answered:
capabilities, diagnostics, completions, hovers, definition, formatting edits, code actions, and the latency of
diagnostics after a change in a 2,000-line rule.
"""
import asyncio
import json
import os
import statistics
import sys
import time

from lsprotocol import types
from pygls.lsp.client import LanguageClient


async def main(vigil, folder):
    client = LanguageClient("vigil-tests", "1")
    published = {}
    arrivals = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params):
        published[params.uri] = params.diagnostics
        arrivals.put_nowait((params.uri, time.perf_counter()))

    await client.start_io(vigil, "lsp")
    out = {}
    result = await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri="file://" + folder)
    )
    client.initialized(types.InitializedParams())
    caps = result.capabilities
    out["capabilities"] = {
        "completion": caps.completion_provider is not None,
        "hover": bool(caps.hover_provider),
        "definition": bool(caps.definition_provider),
        "formatting": bool(caps.document_formatting_provider),
        "code_action": bool(caps.code_action_provider),
        "sync": int(caps.text_document_sync) if isinstance(caps.text_document_sync, int) else None,
        "server": result.server_info.name if result.server_info else None,
    }

    async def open_and_wait(path, version=1):
        uri = "file://" + path
        text = open(path, encoding="utf-8").read()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="yaml", version=version, text=text))
        )
        while True:
            got, _ = await asyncio.wait_for(arrivals.get(), 10)
            if got == uri:
                return uri, text

    rule = os.path.join(folder, "proc_creation_win_lsp_example.yml")
    uri, text = await open_and_wait(rule)
    out["diagnostics"] = [
        {"code": d.code, "line": d.range.start.line, "start": d.range.start.character, "end": d.range.end.character,
         "severity": int(d.severity)}
        for d in published[uri]
    ]
    lines = text.split("\n")

    def position_of(needle, offset=0):
        for number, line in enumerate(lines):
            if needle in line:
                return types.Position(line=number, character=line.index(needle) + offset)
        raise SystemExit(f"{needle!r} not in the rule")

    doc = types.TextDocumentIdentifier(uri=uri)
    # Completion right after `Image|` (the rule has `Image|endswiht: ...`).
    async def labels(position):
        completion = await client.text_document_completion_async(
            types.CompletionParams(text_document=doc, position=position)
        )
        items = completion.items if hasattr(completion, "items") else completion
        return [i.label for i in items or []]

    out["completion_after_pipe"] = await labels(position_of("Image|", len("Image|")))
    out["completion_after_contains"] = await labels(position_of("CommandLine|contains|", len("CommandLine|contains|")))
    out["completion_in_condition"] = await labels(position_of("condition: ", len("condition: ")))
    out["completion_category"] = await labels(position_of("category: ", len("category: ")))
    out["completion_fields"] = await labels(position_of("        Parent", len("        Parent")))

    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=position_of("|contains", 2))
    )
    out["hover_modifier"] = hover.contents.value if hover else None
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=position_of("condition: selection", len("condition: ") + 2))
    )
    out["hover_identifier"] = hover.contents.value if hover else None
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=position_of("CommandLine|", 3))
    )
    out["hover_field"] = hover.contents.value if hover else None
    definition = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=position_of("not filter_admin", len("not ") + 3))
    )
    location = definition[0] if isinstance(definition, list) else definition
    out["definition"] = {"line": location.range.start.line, "character": location.range.start.character} if location else None
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc, options=types.FormattingOptions(tab_size=4, insert_spaces=True))
    )
    out["formatting"] = [e.new_text for e in edits or []]
    # The modifier mended: the document is valid, so the conventions of vigil.yml are checked too.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text.replace("endswiht", "endswith"))],
        )
    )
    while (await asyncio.wait_for(arrivals.get(), 10))[0] != uri:
        pass
    out["diagnostics_mended"] = [d.code for d in published[uri]]
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=position_of("condition: selection", len("condition: ") + 2))
    )
    out["hover_identifier_mended"] = hover.contents.value if hover else None
    title_end = [d for d in published[uri] if d.code == "sigmahq-title-end"]
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=title_end[0].range if title_end else types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=title_end),
        )
    )
    out["code_actions"] = [
        {"title": a.title, "edits": [(e.range.start.line, e.range.start.character, e.new_text)
                                     for e in a.edit.changes[uri]]}
        for a in actions or []
    ]

    # Latency: a 2,000-line rule, changed 20 times; the time from sending each change to its diagnostics.
    big = os.path.join(folder, "proc_creation_win_lsp_big.yml")
    big_uri, big_text = await open_and_wait(big)
    latencies = []
    for version in range(2, 22):
        changed = big_text.replace("whoami", f"whoami{version}", 1)
        if version % 2:
            changed = changed.replace("Image|endswith", "Image|endswiht", 1)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=big_uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=changed)],
            )
        )
        while True:
            got, at = await asyncio.wait_for(arrivals.get(), 10)
            if got == big_uri:
                break
        latencies.append((at - sent) * 1000)
        codes = [d.code for d in published[big_uri]]
        if version % 2 and "unknown-modifier" not in codes:
            raise SystemExit("the change's diagnostics did not arrive with it")
    out["big_lines"] = big_text.count("\n")
    out["latency_ms"] = {"median": statistics.median(latencies), "max": max(latencies)}

    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.sleep(0.2)
    await client.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
