// The editor of `archspec serve`: CodeMirror 6 with YAML highlighting and lint markers (gutter and underline).
// Bundled by build.mjs into archspec/serve/static/editor.js as the global `ArchspecEditor`; page.js uses
// only the functions exported here, so the page's own code needs no rebuild.
import {EditorState} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching} from "@codemirror/language";
import {searchKeymap, highlightSelectionMatches} from "@codemirror/search";
import {setDiagnostics, lintGutter} from "@codemirror/lint";
import {yaml} from "@codemirror/lang-yaml";

// A diagnostic at line:column (1-based; line 0 = the whole document) -> a CodeMirror range within its line: a
// flow mapping or list up to its closing bracket, a quoted string up to its quote, a word or number, else
// one character.
function span(rest) {
  if (rest[0] === "{" || rest[0] === "[") {
    let depth = 0;
    for (let i = 0; i < rest.length; i++) {
      depth += "{[".includes(rest[i]) ? 1 : "}]".includes(rest[i]) ? -1 : 0;
      if (depth === 0) return i + 1;
    }
  }
  if (rest[0] === "'" || rest[0] === '"') {
    const close = rest.indexOf(rest[0], 1);
    if (close > 0) return close + 1;
  }
  const word = rest.match(/^[\w.+-]+/);
  return word ? word[0].length : 1;
}

function range(doc, line, column) {
  if (!line || line > doc.lines) {
    const first = doc.line(1);
    return {from: first.from, to: Math.max(first.to, first.from + (doc.length ? 1 : 0))};
  }
  const l = doc.line(line);
  const from = Math.min(l.from + Math.max(column - 1, 0), l.to);
  const rest = l.text.slice(from - l.from);
  return rest ? {from, to: from + span(rest)} : {from: Math.max(l.from, from - 1), to: from};
}

export function create(parent, text, onChange) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
        bracketMatching(), highlightActiveLine(), highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, {fallback: true}), yaml(), lintGutter(),
        EditorState.tabSize.of(2), EditorView.lineWrapping,
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
      ],
    }),
  });
  return {
    text: () => view.state.doc.toString(),
    setText(t) { view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: t}}); },
    // [{line, column, severity, message}] -> markers in the gutter and underlines
    mark(diags) {
      const doc = view.state.doc;
      const marks = diags.map((d) => ({...range(doc, d.line, d.column),
        severity: d.severity === "warning" ? "warning" : "error", message: `${d.code}: ${d.message}`}));
      view.dispatch(setDiagnostics(view.state, marks));
    },
    goto(line, column) {
      const doc = view.state.doc;
      const l = doc.line(Math.min(Math.max(line || 1, 1), doc.lines));
      const pos = Math.min(l.from + Math.max((column || 1) - 1, 0), l.to);
      view.dispatch({selection: {anchor: pos}, scrollIntoView: true});
      view.focus();
    },
    cursorLine: () => view.state.doc.lineAt(view.state.selection.main.head).number,
  };
}
