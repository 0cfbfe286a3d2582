"""`berth completion bash|zsh`: a completion script generated from the command tree itself."""

from __future__ import annotations

import argparse
import shlex

from .tree import children, options

HEAD = """# berth shell completion ({shell}); load with: eval "$(berth completion {shell})"
"""

ZSH_PREAMBLE = """autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
"""

BASH = """_berth_complete() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${{COMP_WORDS[i]}}"
        [[ "$w" == -* ]] && continue
        case "${{path:+$path }}$w" in
{known}
            *) ;;
        esac
    done
    local words
    case "$path" in
{cases}
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _berth_complete berth
"""


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    known: list[str] = []
    cases: list[str] = []

    def walk(p: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        kids = children(p)
        path = " ".join(words)
        offered = list(kids) if kids else options(p)
        cases.append(f"        {shlex.quote(path)}) words={shlex.quote(' '.join(offered))} ;;")
        for name, child in kids.items():
            full = " ".join((*words, name))
            known.append(f"            {shlex.quote(full)}) path={shlex.quote(full)} ;;")
            walk(child, (*words, name))

    walk(parser, ())
    body = BASH.format(known="\n".join(known), cases="\n".join(cases))
    return HEAD.format(shell=shell) + (ZSH_PREAMBLE if shell == "zsh" else "") + body


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("completion", help="print a shell completion script (bash or zsh)")
    p.add_argument("shell", choices=["bash", "zsh"])
