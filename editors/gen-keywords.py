#!/usr/bin/env python3
"""Keep the keyword lists of the editor highlighters in step with grammar/res.pest.

The grammar is the only place where keywords are spelled: every rule of the form

    kw_NAME = @{ "word" ~ !ident_char }

is a keyword. This script reads those rules and owns one marked region in each highlighter:

    editors/vscode/syntaxes/res.tmLanguage.json   repository entries between
                                                  "GENERATED KEYWORDS BEGIN" and "... END"
    editors/vim/syntax/res.vim                    between '" GENERATED KEYWORDS BEGIN/END'
    editors/emacs/res-mode.el                     between ';; GENERATED KEYWORDS BEGIN/END'

Usage:
    python3 editors/gen-keywords.py           rewrite the three regions from the grammar
    python3 editors/gen-keywords.py --check   exit 1, naming keyword and file, when a highlighter
                                              lacks a grammar keyword or its region is stale

Keywords are sorted into highlight groups by the GROUPS table below. A keyword that the table
does not mention falls into the default group "statement", so a keyword added to the grammar is
highlighted as soon as this script is run, even before anyone files it under a better group.
"""

import json
import re
import sys
from pathlib import Path

EDITORS = Path(__file__).resolve().parent
ROOT = EDITORS.parent
GRAMMAR = ROOT / "grammar" / "res.pest"

TEXTMATE = EDITORS / "vscode" / "syntaxes" / "res.tmLanguage.json"
VIM = EDITORS / "vim" / "syntax" / "res.vim"
EMACS = EDITORS / "emacs" / "res-mode.el"

BEGIN = "GENERATED KEYWORDS BEGIN"
END = "GENERATED KEYWORDS END"

# ------------------------------------------------------------------------------------------------
# Grouping. Order matters only for the output; a keyword belongs to the first group naming it.

DEFAULT_GROUP = "statement"

GROUPS = {
    # top-level blocks and the named blocks nested in them
    "declaration": """
        import param data system service traffic fault window event slo abort remedy scenario
        template session step
    """,
    # effects a fault injects
    "fault": """
        latency errors reset blackhole timeout bandwidth slow_close slice kill pause restart cpu
        memory disk fds loss toxicity
    """,
    # what a remedy does and what a scenario step does
    "action": "do scale shift failover exec webhook load inject wait",
    # when things happen relative to each other
    "time": "at after before during with for from to over every lasts in start end",
    # the word operators of expressions
    "logical": "and or not",
    # everything else lands in DEFAULT_GROUP ("statement")
}

GROUP_ORDER = ["declaration", "statement", "fault", "action", "time", "logical"]

# Keywords followed by the name they declare (`system shop`, `step warmup = ...`). Only grammar
# keywords count: a name here that the grammar no longer has is simply ignored.
NAMED_DECLARATIONS = """
    param data system service traffic fault window event slo remedy scenario session step
""".split()

# Built-in functions (notes/SEMANTICS.md); not keywords, but highlighted when called, e.g.
# `peak(everyday)`, which must win over the keyword `peak` of `forecast peak over 7d`.
BUILTIN_FUNCTIONS = """
    p50 p90 p95 p99 p999 max_latency error_rate throughput saturation availability recovery
    peak env secret
""".split()

# Words that `syn keyword` takes as options, not keywords.
VIM_SYN_OPTIONS = set("""
    cchar conceal concealends contained containedin contains display excludenl extend fold
    keepend nextgroup oneline skipempty skipnl skipwhite transparent
""".split())

# Per-editor names of each group.
TEXTMATE_SCOPE = {
    "declaration": "storage.type.declaration.res",
    "statement": "keyword.other.statement.res",
    "fault": "keyword.other.fault.res",
    "action": "keyword.control.action.res",
    "time": "keyword.control.time.res",
    "logical": "keyword.operator.logical.res",
}
VIM_GROUP = {
    "declaration": "resDeclaration",
    "statement": "resStatement",
    "fault": "resFaultKind",
    "action": "resAction",
    "time": "resTimeRelation",
    "logical": "resLogical",
}
EMACS_CONST = {g: f"res-{g}-keywords" for g in GROUP_ORDER}

IDENT = "[A-Za-z_][A-Za-z0-9_]*"


# ------------------------------------------------------------------------------------------------
# Reading the grammar

KW_RULE = re.compile(r'^\s*kw_(\w+)\s*=\s*@?\{\s*"([^"]+)"', re.MULTILINE)


def grammar_keywords(path=GRAMMAR):
    """The keyword words of the grammar, in grammar order."""
    text = path.read_text(encoding="utf-8")
    words = []
    for _rule, word in KW_RULE.findall(text):
        if word not in words:
            words.append(word)
    # A kw_ rule that the pattern above could not read must not slip through silently.
    declared = re.findall(r"^\s*kw_(\w+)\s*=", text, re.MULTILINE)
    if len(declared) != len(KW_RULE.findall(text)):
        unread = sorted(set(declared) - {r for r, _ in KW_RULE.findall(text)})
        sys.exit(f"gen-keywords: cannot read the word of grammar rule(s) kw_{', kw_'.join(unread)}")
    if not words:
        sys.exit(f"gen-keywords: no kw_ rules found in {path}")
    return words


def group_of(word):
    for group, members in GROUPS.items():
        if word in members.split():
            return group
    return DEFAULT_GROUP


def grouped(words):
    out = {g: [] for g in GROUP_ORDER}
    for w in words:
        out[group_of(w)].append(w)
    return {g: sorted(ws) for g, ws in out.items() if ws}


def alternation(words):
    # longest first, so that no word is cut short by a prefix of it (regex engines take the
    # first alternative that fits)
    return "|".join(sorted(words, key=lambda w: (-len(w), w)))


# ------------------------------------------------------------------------------------------------
# Region bodies, one per editor

def textmate_region(words):
    groups = grouped(words)
    # A keyword right after the same keyword is a template parameter named like it
    # (`on on`, `latency latency`): keywords are contextual, and no statement repeats its word.
    echo_patterns = [
        {
            "match": f"\\b({alternation(ws)})\\s+(\\1)\\b",
            "captures": {"1": {"name": TEXTMATE_SCOPE[g]}, "2": {"name": "variable.parameter.res"}},
        }
        for g, ws in groups.items()
    ]
    keyword_patterns = echo_patterns + [
        {"name": TEXTMATE_SCOPE[g], "match": f"\\b(?:{alternation(ws)})\\b"}
        for g, ws in groups.items()
    ]
    named = [w for w in words if w in NAMED_DECLARATIONS]
    declaration_patterns = [
        {
            # `step at most 4 per 1m` in a remedy is a rail, not a step named `at`
            "match": f"\\b({w})\\s+(?!at\\s+most\\b)({IDENT})\\b",
            "captures": {
                "1": {"name": TEXTMATE_SCOPE[group_of(w)]},
                "2": {"name": f"entity.name.type.{w}.res"},
            },
        }
        for w in sorted(named)
    ]
    builtin = {
        "name": "support.function.builtin.res",
        "match": f"\\b(?:{alternation(BUILTIN_FUNCTIONS)})(?=\\s*\\()",
    }
    entries = {
        "keywords": {"patterns": keyword_patterns},
        "declarations": {"patterns": declaration_patterns},
        "builtins": {"patterns": [builtin]},
    }
    lines = []
    for key, value in entries.items():
        text = json.dumps({key: value}, indent=2, ensure_ascii=False)
        # drop the outer braces, indent by the repository's depth (4 spaces), keep the comma
        inner = text.splitlines()[1:-1]
        lines.extend("  " + line for line in inner)
        lines[-1] += ","
    return lines


def vim_wrap(prefix, words, width=100):
    lines, line = [], prefix
    for w in words:
        if len(line) + 1 + len(w) > width:
            lines.append(line)
            line = prefix
        line += " " + w
    lines.append(line)
    return lines


def vim_region(words):
    groups = grouped(words)
    named = set(NAMED_DECLARATIONS)
    builtins = set(BUILTIN_FUNCTIONS)
    lines = []
    for g, ws in groups.items():
        vg = VIM_GROUP[g]
        # A `syn keyword` outranks every `syn match` at the same place, so a keyword that is
        # also a built-in function (`peak`) is a match that steps aside before "(".
        clash = [w for w in ws if w in builtins]
        # `syn keyword` would read these words as its own options
        reserved = [w for w in ws if w in VIM_SYN_OPTIONS and w not in builtins]
        special = set(clash) | set(reserved)
        plain = [w for w in ws if w not in special and not (g == "declaration" and w in named)]
        naming = [w for w in ws if w in named and w not in special]
        # resParamEcho: the same word again is a template parameter (`on on`)
        if plain:
            lines.extend(
                f"{line} nextgroup=resParamEcho skipwhite"
                for line in vim_wrap(f"syn keyword {vg}", plain, width=70)
            )
        if naming:
            lines.extend(
                f"{line} nextgroup=resParamEcho,resDeclName skipwhite"
                for line in vim_wrap(f"syn keyword {vg}", naming, width=70)
            )
        for w in clash:
            lines.append(f"syn match {vg} /\\<{w}\\>\\%(\\s*(\\)\\@!/ nextgroup=resParamEcho skipwhite")
        for w in reserved:
            follow = "resParamEcho,resDeclName" if w in named else "resParamEcho"
            lines.append(f"syn match {vg} /\\<{w}\\>/ nextgroup={follow} skipwhite")
    lines.append(
        "syn match resBuiltin /\\<\\%(" + "\\|".join(sorted(builtins)) + "\\)\\>\\ze\\s*(/"
    )
    return lines


def emacs_list(name, doc, words):
    out = [f"(defconst {name}"]
    line = "  '("
    body = []
    for w in words:
        item = f'"{w}"'
        if len(line) + len(item) + 1 > 98:
            body.append(line.rstrip())
            line = "    "
        line += item + " "
    body.append(line.rstrip() + ")")
    out.extend(body)
    out.append(f'  "{doc}")')
    return out


def emacs_region(words):
    groups = grouped(words)
    lines = []
    for g in GROUP_ORDER:
        if g in groups:
            lines.extend(emacs_list(EMACS_CONST[g], f"Keywords of the {g} group.", groups[g]))
        else:
            lines.append(f'(defconst {EMACS_CONST[g]} nil "Keywords of the {g} group (none).")')
    named = [w for w in words if w in NAMED_DECLARATIONS]
    lines.extend(emacs_list("res-named-declarations",
                            "Keywords followed by the name they declare.", sorted(named)))
    lines.extend(emacs_list("res-builtin-functions",
                            "Built-in functions of res.", sorted(BUILTIN_FUNCTIONS)))
    return lines


# ------------------------------------------------------------------------------------------------
# Reading back what a highlighter has (for --check)

def textmate_words(region_text):
    data = json.loads("{" + region_text.rstrip().rstrip(",") + "}")
    found = set()
    for entry in ("keywords", "declarations"):
        for pat in data.get(entry, {}).get("patterns", []):
            for alt in re.findall(r"\(\?:([A-Za-z0-9_|]+)\)|\(([A-Za-z0-9_|]+)\)", pat.get("match", "")):
                for part in alt:
                    found.update(w for w in part.split("|") if w)
    return found


def vim_words(region_text):
    found = set()
    for line in region_text.splitlines():
        m = re.match(r"\s*syn(?:tax)?\s+keyword\s+resBuiltin\b", line)
        if m:
            continue
        m = re.match(r"\s*syn(?:tax)?\s+keyword\s+\w+\s+(.*)", line)
        if m:
            found.update(w for w in m.group(1).split() if "=" not in w and w not in VIM_SYN_OPTIONS)
            continue
        m = re.match(r"\s*syn(?:tax)?\s+match\s+(\w+)\s+/\\<(\w+)\\>", line)
        if m and m.group(1) != "resBuiltin":
            found.add(m.group(2))
    return found


def emacs_words(region_text):
    found = set()
    for m in re.finditer(r"\(defconst\s+(res-[a-z]+-keywords)\b(.*?)\"Keywords of the", region_text, re.S):
        found.update(re.findall(r'"([^"]+)"', m.group(2)))
    return found


# ------------------------------------------------------------------------------------------------
# Regions

def split_region(path):
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    begins = [i for i, l in enumerate(lines) if BEGIN in l]
    ends = [i for i, l in enumerate(lines) if END in l]
    if len(begins) != 1 or len(ends) != 1 or ends[0] <= begins[0]:
        sys.exit(f"gen-keywords: {path.relative_to(ROOT)} needs exactly one '{BEGIN}' line "
                 f"followed by one '{END}' line")
    b, e = begins[0], ends[0]
    return lines[: b + 1], lines[b + 1 : e], lines[e:]


TARGETS = [
    (TEXTMATE, textmate_region, textmate_words),
    (VIM, vim_region, vim_words),
    (EMACS, emacs_region, emacs_words),
]


def main(argv):
    check = "--check" in argv[1:]
    unknown = [a for a in argv[1:] if a != "--check"]
    if unknown:
        sys.exit(__doc__)
    words = grammar_keywords()
    failures = 0
    for path, make, read in TARGETS:
        rel = path.relative_to(ROOT)
        head, body, tail = split_region(path)
        wanted = make(words)
        if check:
            have = read("\n".join(body))
            missing = [w for w in words if w not in have]
            for w in missing:
                print(f"gen-keywords: {rel} lacks grammar keyword '{w}' "
                      f"(run python3 editors/gen-keywords.py)")
            extra = sorted(have - set(words) - set(BUILTIN_FUNCTIONS))
            for w in extra:
                print(f"gen-keywords: {rel} highlights '{w}', which grammar/res.pest does not "
                      f"define as a keyword (run python3 editors/gen-keywords.py)")
            if not missing and not extra and body != wanted:
                print(f"gen-keywords: {rel}: generated region is out of date "
                      f"(run python3 editors/gen-keywords.py)")
                failures += 1
            failures += len(missing) + len(extra)
        elif body != wanted:
            path.write_text("\n".join(head + wanted + tail), encoding="utf-8")
            print(f"gen-keywords: rewrote {rel}")
    # the TextMate grammar must stay valid JSON whatever its region holds
    try:
        json.loads(TEXTMATE.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        print(f"gen-keywords: {TEXTMATE.relative_to(ROOT)} is not valid JSON: {err}")
        failures += 1
    if check:
        if failures:
            print(f"gen-keywords: {failures} problem(s)")
            return 1
        print(f"gen-keywords: {len(words)} grammar keywords present in all 3 highlighters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
