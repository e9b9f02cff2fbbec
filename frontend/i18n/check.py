#!/usr/bin/env python3
"""Lists, per catalog, the message ids of en.ftl it lacks and the ids it has that en.ftl
lacks; checks every line is a comment, a blank, `id = value` or a continuation (indented)
line of a multi-line message (select expressions). Exit 1 on any gap or syntax problem.

    python3 frontend/i18n/check.py            # summary
    python3 frontend/i18n/check.py -v         # every missing id
    python3 frontend/i18n/check.py --missing pl   # `id = English` lines pl lacks
"""
import re, sys, pathlib

DIR = pathlib.Path(__file__).resolve().parent
LANGS = ["az", "pl", "ru", "zh"]
MSG = re.compile(r"^([a-z][a-z0-9-]*) = (.*)$")


def parse(path):
    msgs, errors, cur = {}, [], None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            cur = None if not line.strip() else cur
            continue
        if line[0] in " \t":
            if cur is None:
                errors.append(f"{path.name}:{n}: continuation line outside a message")
            else:
                msgs[cur] += "\n" + line
            continue
        m = MSG.match(line)
        if not m:
            errors.append(f"{path.name}:{n}: not `id = value`: {line[:60]}")
            cur = None
            continue
        cur = m.group(1)
        if cur in msgs:
            errors.append(f"{path.name}:{n}: {cur} twice")
        msgs[cur] = m.group(2)
    for k, v in msgs.items():
        if v.count("{") != v.count("}"):
            errors.append(f"{path.name}: {k}: unbalanced braces")
        if re.search(r"\{\s*\$[a-z_][a-z0-9_-]*\s*->", v) and "*[" not in v:
            errors.append(f"{path.name}: {k}: select without a default variant")
    return msgs, errors


def args(v):
    return set(re.findall(r"\{\s*\$([a-z_][a-z0-9_-]*)", v))


def main():
    en, errs = parse(DIR / "en.ftl")
    bad = list(errs)
    if "--missing" in sys.argv:
        lang = sys.argv[sys.argv.index("--missing") + 1]
        cat, _ = parse(DIR / f"{lang}.ftl")
        for k, v in en.items():
            if k not in cat:
                print(f"{k} = {v}")
        return 0
    for lang in LANGS:
        cat, errs = parse(DIR / f"{lang}.ftl")
        bad += errs
        missing = [k for k in en if k not in cat]
        extra = [k for k in cat if k not in en]
        argdiff = [k for k in cat if k in en and args(cat[k]) != args(en[k])]
        print(f"{lang}: {len(cat)} messages, {len(missing)} missing, {len(extra)} unknown, {len(argdiff)} with other arguments")
        if "-v" in sys.argv:
            for k in missing:
                print("  missing", k)
        for k in extra:
            bad.append(f"{lang}.ftl: unknown id {k}")
        for k in argdiff:
            bad.append(f"{lang}.ftl: {k}: arguments {sorted(args(cat[k]))} != English {sorted(args(en[k]))}")
        if missing:
            bad.append(f"{lang}.ftl: {len(missing)} ids of en.ftl missing")
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
