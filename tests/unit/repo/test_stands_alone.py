"""The repository stands alone: nothing tracked cites a path outside it or an issue number, and
README's index lists every page in docs/."""
import os
import re
import subprocess

SOURCE_DIR = os.environ.get("HUBD_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))

# Built from pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([
    re.escape("..") + "/shared",
    "shared/(spec|design|testbeds)",
    r"(rbac|rest-api)\.md §",
    "singleuser" + "-contract",
    "jupyterhub-rest-api" + r"\.yml",
    "plugin-abi" + "-style",
    # Our issue tracker is not in the repository either: a comment says the reason, not a number.
    r"\bissue" + r"s? #?\d+",
]), re.IGNORECASE)


def tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=SOURCE_DIR, capture_output=True, check=True).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        # Not a git checkout (an unpacked source tarball): every file but build output.
        files = []
        for root, dirs, names in os.walk(SOURCE_DIR):
            dirs[:] = [d for d in dirs if not d.startswith(("build", ".git", "node_modules"))]
            files += [os.path.relpath(os.path.join(root, n), SOURCE_DIR) for n in names]
        return files


def test_nothing_tracked_cites_outside_the_repository():
    hits = []
    for rel in tracked_files():
        path = os.path.join(SOURCE_DIR, rel)
        if not os.path.isfile(path):
            continue  # deleted in the work tree
        with open(path, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue  # binary
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{rel}:{n}: {line.strip()}")
    assert hits == [], "cites files outside the repository:\n" + "\n".join(hits)


def test_readme_index_lists_every_doc_page():
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        readme = f.read()
    index = readme[readme.index("## Where to read on"):]
    missing = []
    docs = os.path.join(SOURCE_DIR, "docs")
    for name in sorted(os.listdir(docs)):
        if os.path.isfile(os.path.join(docs, name)) and name.endswith((".md", ".yml")):
            if f"`docs/{name}`" not in index:
                missing.append(f"docs/{name}")
    # Sub-pages: listed under their folder, by name.
    for sub in sorted(os.listdir(docs)):
        folder = os.path.join(docs, sub)
        if not os.path.isdir(folder):
            continue
        pages = [p for p in sorted(os.listdir(folder)) if p.endswith(".md")]
        if pages and f"docs/{sub}/" not in index:
            missing.append(f"docs/{sub}/")
        missing += [f"docs/{sub}/{p}" for p in pages if f"`{p}`" not in index and f"docs/{sub}/{p}" not in index]
    assert missing == [], "README.md's 'Where to read on' does not list: " + ", ".join(missing)


def test_docs_link_the_architecture_page():
    with open(os.path.join(SOURCE_DIR, "README.md")) as f:
        assert "docs/architecture.md" in f.read()
    assert os.path.isfile(os.path.join(SOURCE_DIR, "docs", "architecture.md"))
