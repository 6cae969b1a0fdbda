"""The `qa` command line: ask, chat, index build, serve, eval. Printing happens here and nowhere else."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np

from . import collection, corpus, index, shards, store
from .evaluate import VARIANTS
from .settings import DEFAULT_TOP_K, MAX_HISTORY, MAX_TOP_K

# The code that answers is imported by the commands that answer: qa index add and remove start without it.
if TYPE_CHECKING:
    from .filters import Filters
    from .search import Engine, Result

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
NOT_FOUND = "Không tìm thấy câu trả lời trong các bài đã lập chỉ mục."  # as the chat page says it
NEW_CONVERSATION = ("/moi", "/mới", "/new")  # a chat line that starts a new conversation: earlier questions forgotten

top_k_option = click.option(
    "--top-k",
    "-k",
    type=click.IntRange(1, MAX_TOP_K),
    default=DEFAULT_TOP_K,
    show_default=True,
    help="How many passages to return.",
)
index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Collection folder (default: $QA_INDEX, else the built-in article, indexed on first use).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
max_file_size_option = click.option(
    "--max-file-size",
    "max_mib",
    type=click.IntRange(1),
    default=corpus.MAX_FILE_SIZE // 2**20,
    show_default=True,
    metavar="MIB",
    help="Refuse, unread, a file larger than this many MiB.",
)


def fail(message: str) -> None:
    """A clear message on stderr and exit code 2: never a traceback."""
    click.echo(f"qa: {message}", err=True)
    sys.exit(EXIT_USAGE)


def load_engine(index_dir: Path | None, checksums: bool | None = None) -> Engine:
    """The engine on the collection the one rule chooses (index.collection)."""
    from .search import Engine

    try:
        chosen = index.chosen_dir(index_dir)
        if chosen is not None and shards.is_sharded(chosen):  # its shards, ranked as one collection in this process
            return Engine(shards.ShardedIndex(shards.LocalShards(chosen, checksums)))
        return Engine(index.collection(index_dir, waiting=say, checksums=checksums))
    except (store.IndexFileError, store.IndexWriteError) as error:
        fail(str(error))


ray_option = click.option(
    "--ray",
    "ray_address",
    metavar="auto|ADDRESS",
    help="Run on the Ray cluster at ADDRESS (auto: the one started on this machine).",
)


def cluster():
    """qa.cluster, or a clear message when the [cluster] extra (Ray) is not installed."""
    try:
        from . import cluster
    except ImportError as error:
        fail(f"--ray needs Ray: pip install 'qa-vi[cluster]' ({error})")
    return cluster


def say(message: str) -> None:
    """A line for the person at the terminal, on stderr so that --json output stays clean."""
    click.echo(f"qa: {message}", err=True)


def _log_at(level: int) -> None:
    # force: underthesea sets up the root logger when it is imported, which would make this do nothing
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _log_at(logging.INFO)


verbose_option = click.option(
    "--verbose", "-v", is_flag=True, expose_value=False, callback=_verbose, help="Log what qa does, on stderr."
)


class _Group(click.Group):
    """The command group: warnings only unless -v (given before or after the command's name), and Ctrl-C (or
    SIGTERM) ending a command in one line rather than a traceback."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        if parent is None:
            _log_at(logging.WARNING)
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context):
        signal.signal(signal.SIGTERM, _terminated)  # finally blocks run: a build removes its partial files
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            say("interrupted")
            sys.exit(EXIT_INTERRUPTED)


def _terminated(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa-vi")
@verbose_option
def main() -> None:
    """Ask questions in Vietnamese, with or without diacritics, about indexed articles.

    The answer is the passage that holds it, its best sentence first, the matched words marked.
    The collection is the one --index names, else the one $QA_INDEX names, else the built-in
    article (indexed on first use into the user's cache folder).
    """


def filter_options(command):
    """--since, --until and --doc: which documents may answer."""
    for option in reversed(
        [
            click.option("--since", metavar="YYYY-MM-DD", help="Only documents dated this day or later."),
            click.option("--until", metavar="YYYY-MM-DD", help="Only documents dated this day or earlier."),
            click.option("--doc", "doc_id", metavar="ID", help="Only this document (qa index list shows the ids)."),
        ]
    ):
        command = option(command)
    return command


@main.command()
@verbose_option
@click.argument("question")
@top_k_option
@index_option
@filter_options
@click.option(
    "--history",
    multiple=True,
    metavar="QUESTION",
    help=f"An earlier question of the conversation, oldest first (repeatable, at most {MAX_HISTORY}): a "
    'follow-up such as "Ông ấy giữ chức vụ gì?" is answered in their context.',
)
@json_option
def ask(
    question: str,
    top_k: int,
    index_dir: Path | None,
    since: str | None,
    until: str | None,
    doc_id: str | None,
    history: tuple[str, ...],
    as_json: bool,
) -> None:
    """Answer QUESTION. Exit code 0 when found, 1 when not found, 2 on bad usage."""
    result = answer(load_engine(index_dir), question, top_k, parsed_filters(since, until, doc_id), history)
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False) if as_json else render(result))
    sys.exit(EXIT_FOUND if result.found else EXIT_NOT_FOUND)


def parsed_filters(since: str | None, until: str | None, doc_id: str | None) -> Filters:
    from .filters import Filters
    from .search import QuestionError

    try:
        return Filters.parse(since, until, doc_id)
    except QuestionError as error:
        fail(str(error))


def answer(
    engine: Engine, question: str, top_k: int, filters: Filters | None = None, history: tuple[str, ...] = ()
) -> Result:
    from .search import QuestionError

    try:
        return engine.ask(question, top_k, filters, history)
    except QuestionError as error:
        fail(str(error))


def render(result: Result, color: bool | None = None) -> str:
    """Readable answers: the short answer when there is one, then the best sentence with the matched words marked,
    then source and score."""
    lines = [f"(Hiểu là: {result.asked})"] if result.asked else []  # a follow-up, asked in its conversation's context
    lines += [] if result.found else [NOT_FOUND + (" Đoạn gần nhất:" if result.answers else "")]
    for a in result.answers:
        if a.short_answer:  # the answer itself first, where it is said under it (click.echo drops the bold off a tty)
            lines.append(click.style(a.short_answer["text"], bold=True))
        offset = a.text.find(a.sentence)
        inside = [(s - offset, e - offset) for s, e in a.highlights if s >= offset and e <= offset + len(a.sentence)]
        lines.append(f"{a.rank}. {mark(a.sentence, inside, color)}")
        dated = f" · {a.date.replace('T', ' ')}" if a.date else ""
        lines.append(f"   Nguồn: {a.title} ({a.passage_id}){dated} · điểm {a.score:.2f}")
        if a.url:
            lines.append(f"   {a.url}")
        if a.sentence != a.text:
            passage = mark(a.text, a.highlights, color).split("\n")  # a heading, then its text: each line under it
            lines.append(f"   Đoạn: {passage[0]}")
            lines += [f"         {line}" for line in passage[1:]]
        lines.append("")
    return "\n".join(lines).rstrip()


def counted(number: int, thing: str) -> str:
    """The number and the thing, plural unless one: "1 document", "3 documents"."""
    return f"{number} {thing}{'s' * (number != 1)}"


def mark(text: str, spans, color: bool | None) -> str:
    """Matched words in bold yellow on a terminal, in [brackets] elsewhere."""
    color = sys.stdout.isatty() if color is None else color
    out, last = [], 0
    for start, end in spans:
        word = text[start:end]
        out += [text[last:start], click.style(word, fg="yellow", bold=True) if color else f"[{word}]"]
        last = end
    return "".join(out + [text[last:]])


@main.command()
@verbose_option
@top_k_option
@index_option
@json_option
def chat(top_k: int, index_dir: Path | None, as_json: bool) -> None:
    """Ask questions one after another, a follow-up answered in the context of the earlier ones ("/moi" starts a new
    conversation). Piped, it answers one question per input line."""
    engine = load_engine(index_dir)
    engine.warm_up()
    conversation: list[str] = []  # the earlier questions, oldest first, sent as history
    if not sys.stdin.isatty():
        for line in sys.stdin:
            if line.strip():
                conversation = converse(engine, line, conversation, top_k, as_json)
        return
    saved = _start_history()
    click.echo(
        f"Hỏi về {engine.stats['documents']} bài ({engine.stats['passages']} đoạn). "
        "Gõ câu hỏi rồi Enter; /moi để bắt đầu cuộc trò chuyện mới; Ctrl-D để thoát."
    )
    try:
        while True:
            question = input("? ")
            if question.strip():
                conversation = converse(engine, question, conversation, top_k, as_json)
    except (EOFError, KeyboardInterrupt):
        click.echo()
    finally:
        saved()


def converse(engine: Engine, line: str, conversation: list[str], top_k: int, as_json: bool) -> list[str]:
    """One line of a chat: a new conversation, or a question answered with the earlier ones as history; returns the
    conversation's questions after it (the last MAX_HISTORY)."""
    if line.strip().lower() in NEW_CONVERSATION:
        click.echo(json.dumps({"conversation": "new"}) if as_json else "(Cuộc trò chuyện mới)\n")
        return []
    if print_answer(engine, line, top_k, as_json, conversation):
        return (conversation + [line.strip()])[-MAX_HISTORY:]
    return conversation


def print_answer(engine: Engine, question: str, top_k: int, as_json: bool, history: list[str]) -> bool:
    """One answer in the chat loop, and whether the question was asked: a refused one is reported and the loop goes
    on."""
    from .search import QuestionError

    try:
        result = engine.ask(question, top_k, history=history)
    except QuestionError as error:
        click.echo(
            json.dumps({"question": question.strip(), "error": str(error)}, ensure_ascii=False)
            if as_json
            else f"qa: {error}",
            err=not as_json,
        )
        return False
    click.echo(json.dumps(result.to_dict(), ensure_ascii=False) if as_json else render(result) + "\n")
    return True


def _start_history():
    """Arrow-key history that lasts between sessions; returns what saves it."""
    try:
        import readline
    except ImportError:  # not every platform has readline
        return lambda: None
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "qa-vi"
    path = state / "history"
    try:
        readline.read_history_file(path)
    except OSError:
        pass

    def save() -> None:
        try:
            state.mkdir(parents=True, exist_ok=True)
            readline.set_history_length(1000)
            readline.write_history_file(path)
        except OSError:
            pass

    return save


@main.group(name="index")
def index_group() -> None:
    """Build the index that questions are answered from."""


@index_group.command()
@verbose_option
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "--index",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Collection folder to write (with SOURCE; default: $QA_INDEX).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Processes that analyse text (default: all cores; with --ray: per shard's task, default 1).",
)
@max_file_size_option
@click.option(
    "--shards",
    "shard_count",
    type=click.IntRange(1, shards.MAX_SHARDS),
    help="Write a sharded collection of this many shards, each document to one by its id's hash.",
)
@ray_option
def build(
    sources: tuple[Path, ...],
    out: Path | None,
    workers: int | None,
    max_mib: int,
    shard_count: int | None,
    ray_address: str | None,
) -> None:
    """Index SOURCE files and folders (.txt .md .html .jsonl) into --out; with none, the built-in article.

    Files that give no document (not a regular file, too large, not text, no article text), JSON lines that
    cannot be read and documents whose id an earlier one has are named on stderr and skipped. Only one command
    writes a collection at a time: another waits for it. The collection being replaced stays whole and answers
    until the new one is complete. With --ray, each shard is built by a Ray task on a node of the cluster (the
    [cluster] extra), into a folder every node reaches.
    """
    if ray_address and not shard_count:
        fail("--ray builds shards: say how many with --shards N")
    if sources or shard_count:
        out = index.chosen_dir(out)
        if out is None:
            fail(
                "say where to write the index: --out DIR (or set QA_INDEX); the built-in article's index is "
                "never replaced by other documents"
            )
    out = out or index.default_index_dir()
    sources = list(sources) or [index.default_corpus()]
    try:
        with ExitStack() as shown:
            bars: list = []  # shown once there is text to analyse, not before an error

            def progress(done: int, total: int) -> None:
                if not bars:
                    bars.append(
                        shown.enter_context(click.progressbar(length=total, label="Phân tích", file=sys.stderr))
                    )
                bars[0].update(done - bars[0].pos)

            if ray_address:
                report = cluster().build(
                    sources,
                    out,
                    shard_count,
                    ray_address,
                    workers or 1,
                    progress=progress,
                    waiting=say,
                    max_file_size=max_mib * 2**20,
                )
            elif shard_count:
                report = shards.build(
                    sources,
                    out,
                    shard_count,
                    workers=workers,
                    progress=progress,
                    waiting=say,
                    max_file_size=max_mib * 2**20,
                )
            else:
                report = index.build(
                    sources, out, workers=workers, progress=progress, waiting=say, max_file_size=max_mib * 2**20
                )
    except store.IndexWriteError as error:
        fail(str(error))
    for problem in report.skipped:
        say(f"skipped {problem.source}: {problem.reason}")
    if not report.passages:
        fail(f"no passages found in {', '.join(map(str, sources))}; the index in {out} was not changed")
    into = f"{shard_count} shards in {out}" if shard_count else str(out)
    click.echo(
        f"Indexed {report.documents} documents, {report.passages} passages in {report.seconds:.1f} s into {into}"
    )


@index_group.command()
@verbose_option
@index_option
def verify(index_dir: Path | None) -> None:
    """Check every file of the index against the checksum written with it, and that they fit together (of a sharded
    collection: its list of shards and every shard).

    Exit code 0 when the index is whole, 2 (naming each damaged file, with its shard) when it is not.
    """
    directory = index.chosen_dir(index_dir) or index.default_index_dir()
    sharded = shards.is_sharded(directory)
    problems = shards.verify(directory) if sharded else store.verify(directory)
    for problem in problems:
        say(problem)
    if problems:
        sys.exit(EXIT_USAGE)
    manifests = [store.read_manifest(d) for d in (shards.shard_dirs(directory) if sharded else [directory])]
    files = sum(len(store.listed_files(m)) for m in manifests)
    segments = sum(len(m["segments"]) for m in manifests)
    of_shards = f" of {counted(len(manifests), 'shard')}" if sharded else ""
    click.echo(
        f"{directory}: whole ({files} files in {segments} segment(s){of_shards} verified, "
        f"{sum(m['documents'] for m in manifests)} documents)"
    )


def changed_dir(index_dir: Path | None) -> Path:
    """The collection a command that changes one writes: --index, else $QA_INDEX; never the built-in article."""
    directory = index.chosen_dir(index_dir)
    if directory is None:
        fail(
            "say which collection to change: --index DIR (or set QA_INDEX); the built-in article is not changed "
            "this way"
        )
    return directory


@index_group.command()
@verbose_option
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@index_option
@max_file_size_option
def add(sources: tuple[Path, ...], index_dir: Path | None, max_mib: int) -> None:
    """Add the documents of SOURCE files and folders to a collection (made if there is none).

    A document whose id the collection holds replaces it; one that reads exactly as before is left
    as it is. A file's id is its name without the suffix, or its path inside a folder named as a
    SOURCE ("a/tin" for a/tin.txt). Only the new documents are analysed, into a segment of their
    own; a server answering from the collection moves to the new version by itself.
    """
    directory = changed_dir(index_dir)
    try:
        changes = shards if shards.is_sharded(directory) else collection  # a sharded one: each to its shard
        report = changes.add(list(sources), directory, max_mib * 2**20, waiting=say)
    except (store.IndexFileError, store.IndexWriteError) as error:
        fail(str(error))
    for problem in report.skipped:
        say(f"skipped {problem.source}: {problem.reason}")
    if not (report.added or report.replaced or report.unchanged):
        fail(f"no documents found in {', '.join(map(str, sources))}; {directory} was not changed")
    click.echo(
        f"Added {len(report.added)}, replaced {len(report.replaced)}, left {len(report.unchanged)} as they "
        f"were ({report.passages} passages) in {report.seconds:.2f} s into {directory}"
    )


@index_group.command()
@verbose_option
@click.argument("doc_ids", nargs=-1, required=True)
@index_option
def remove(doc_ids: tuple[str, ...], index_dir: Path | None) -> None:
    """Remove documents from a collection by id (qa index list shows them).

    An id the collection does not hold is named, and nothing is removed (exit code 2).
    """
    directory = changed_dir(index_dir)
    try:
        changes = shards if shards.is_sharded(directory) else collection
        report = changes.remove(list(doc_ids), directory, waiting=say)
    except (collection.NoSuchDocument, store.IndexFileError, store.IndexWriteError) as error:
        fail(str(error))
    click.echo(f"Removed {counted(len(report.removed), 'document')} in {report.seconds:.2f} s from {directory}")


@index_group.command()
@verbose_option
@index_option
def optimize(index_dir: Path | None) -> None:
    """Merge a collection's segments into one (a sharded collection's: each shard's), leaving removed documents out
    for good."""
    directory = changed_dir(index_dir)
    sharded = shards.is_sharded(directory)
    try:
        report = (shards if sharded else collection).optimize(directory, waiting=say)
    except (store.IndexFileError, store.IndexWriteError) as error:
        fail(str(error))
    into = "into one per shard" if sharded else "into one"
    click.echo(
        f"Merged {report.merged} segments {into} of {report.passages} passages in {report.seconds:.2f} s"
        if report.merged
        else f"{directory} is one segment {'per shard ' * sharded}already"
    )


@index_group.command(name="list")
@verbose_option
@index_option
@json_option
def list_documents(index_dir: Path | None, as_json: bool) -> None:
    """List a collection's documents: id, title, date, url and passages."""
    listed = load_engine(index_dir).index.catalogue()
    if as_json:
        click.echo(json.dumps(listed, ensure_ascii=False))
        return
    for d in listed:
        passages = counted(d["passages"], "passage")
        click.echo(f"{d['id']}\t{d['title']}\t{d['date'] or '-'}\t{d['url'] or '-'}\t{passages}")


@index_group.command()
@verbose_option
@index_option
@json_option
def info(index_dir: Path | None, as_json: bool) -> None:
    """Say which collection the other commands use and what it holds (a sharded one: the whole, then each shard)."""
    loaded = load_engine(index_dir).index
    facts = collection_facts(loaded) if isinstance(loaded, store.Index) else sharded_facts(loaded)
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False))
        return
    for key, value in facts.items():
        click.echo(f"{key}: {value}" if key != "shards" else f"shards: {len(value)}")
    for shard in facts.get("shards", []):
        click.echo(
            f"  {shard['name']}: {counted(shard['documents'], 'document')}, {counted(shard['passages'], 'passage')}, "
            f"{counted(shard['segments'], 'segment')}, {shard['bytes']} bytes"
        )


SUMMED_FACTS = ("documents", "passages", "segments", "deleted_documents", "bytes")  # of a sharded collection


def collection_facts(loaded: store.Index) -> dict:
    """Where a collection is and what it holds."""
    manifest = loaded.manifest
    files = store.listed_files(manifest)
    return {
        "directory": str(loaded.directory.resolve()),
        **loaded.stats,
        "terms": int(len(distinct_terms([loaded]))),
        "segments": len(loaded.segments),
        "deleted_documents": int(loaded.deleted.sum()),
        "bytes": sum(int(e.get("bytes", 0)) for e in files.values()),
        "format": manifest["version"],
        "analyser": manifest["analyser"],
        "version": loaded.version,
    }


def sharded_facts(loaded: shards.ShardedIndex) -> dict:
    """Where a sharded collection (loaded in this process) is and what it holds: the facts of the whole, and under
    "shards" each shard's."""
    parts = [shard.index for shard in loaded.shards.shards]
    each = [{"name": name, **collection_facts(part)} for name, part in zip(loaded.shards.names, parts)]
    whole = {key: sum(f[key] for f in each) if key in SUMMED_FACTS else value for key, value in each[0].items()}
    del whole["name"]
    whole.update(
        directory=str(loaded.shards.directory.resolve()),
        terms=int(len(distinct_terms(parts))),
        version=loaded.version,
        shards=each,
    )
    return whole


def distinct_terms(collections: list[store.Index]) -> np.ndarray:
    """The terms (as hashed keys) the collections' segments hold, each once."""
    keys = [s.keys for loaded in collections for s in loaded.postings.segments]
    return np.unique(np.concatenate(keys + [np.zeros(0, np.uint64)]))


@main.command()
@verbose_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: one per core, two at least).")
@click.option(
    "--access-log",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Log every request to this file ('-': standard output).",
)
@click.option(
    "--admin-token-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the token that /api/documents writes need (default: $QA_ADMIN_TOKEN; none: writes are off).",
)
@index_option
@ray_option
@click.option(
    "--replicas",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="With --ray: replicas of each shard and of the ingress.",
)
def serve(
    host: str,
    port: int,
    workers: int | None,
    access_log: str | None,
    admin_token_file: Path | None,
    index_dir: Path | None,
    ray_address: str | None,
    replicas: int,
) -> None:
    """Serve the chat page at / and the JSON API (/api/ask, /api/documents) with a production WSGI server; with
    --ray, a sharded collection as a Ray Serve application (a deployment per shard, an ingress that merges their
    answers).

    The server follows its collection: a change made with qa index add or remove (or through the
    API) is answered from within seconds, without a restart; SIGHUP makes every worker look at once.
    """
    from .server import EXAMPLES, run

    if ray_address:
        serve_on_ray(index_dir, ray_address, replicas, host, port)
        return
    token = admin_token(admin_token_file)
    if access_log not in (None, "-"):
        try:
            Path(access_log).open("a").close()
        except OSError as error:
            fail(f"cannot write the access log {access_log}: {error.strerror or error}")
    engine = load_engine(index_dir, checksums=True)  # nothing damaged is ever served
    article = isinstance(engine.index, store.Index) and engine.index.manifest.get("sources") == [
        str(index.default_corpus().resolve())
    ]
    examples = EXAMPLES if article else ()  # the examples ask about the built-in article
    try:
        run(
            engine,
            host,
            port,
            examples,
            workers=workers,
            access_log=access_log,
            admin_token=token,
            writable=index.chosen_dir(index_dir) is not None,  # the built-in article's own folder is not changed
            on_ready=lambda url: click.echo(f"Serving on {url} (Ctrl-C to stop)"),
        )
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
    click.echo("Stopped.")


def admin_token(path: Path | None) -> str | None:
    """The admin token: the file's content, else $QA_ADMIN_TOKEN, else None (writes off)."""
    try:
        token = path.read_text(encoding="utf-8").strip() if path else os.environ.get("QA_ADMIN_TOKEN", "").strip()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the admin token from {path}: {getattr(error, 'strerror', None) or error}")
    if path and not token:
        fail(f"{path} holds no admin token")
    if token and len(token) < 16:
        fail("the admin token must be 16 characters or more")
    return token or None


def serve_on_ray(index_dir: Path | None, address: str, replicas: int, host: str, port: int) -> None:
    """qa serve --ray: deploy the sharded collection, then wait for Ctrl-C or SIGTERM and take it down."""
    chosen = index.chosen_dir(index_dir)
    if chosen is None or not shards.is_sharded(chosen):
        fail(
            f"--ray serves a sharded collection: build one with qa index build SOURCE... --shards N --out DIR "
            f"and give it with --index DIR ({chosen or 'the built-in article'} is not sharded)"
        )
    ray_serving = cluster()
    try:
        url = ray_serving.start(chosen, address, replicas, host, port)
    except store.IndexFileError as error:
        fail(str(error))
    except ConnectionError as error:
        fail(f"cannot reach the Ray cluster at {address}: {error}")
    click.echo(f"Serving on {url} with Ray (Ctrl-C to stop)")
    try:
        signal.pause()
    except KeyboardInterrupt:  # Ctrl-C is how a person stops it: a clean stop, as for gunicorn
        pass
    finally:
        ray_serving.stop()
    click.echo("Stopped.")


@main.command(name="eval")
@verbose_option
@click.argument("dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top-k", "-k", type=click.IntRange(1, MAX_TOP_K), default=10, show_default=True)
@click.option(
    "--variant",
    "variants",
    multiple=True,
    type=click.Choice(list(VARIANTS)),
    help="Way of asking to measure (repeatable; default: all).",
)
@click.option(
    "--negatives",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON-lines questions the corpus cannot answer: report the share marked not found.",
)
@click.option(
    "--keywords",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON-lines short queries (tests/data/keyword_queries.jsonl): report the share found with the "
    "right passage first, and of those out of the corpus the share marked not found.",
)
@click.option(
    "--followups",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON-lines dialogues (tests/data/followups.jsonl): report, per split, the last turn's Hit@1 and "
    "found share asked with the earlier turns as history and asked alone.",
)
@click.option(
    "--with-unrelated-history",
    "unrelated_history",
    is_flag=True,
    help="Also ask each question with an unrelated earlier question as history: report Hit@1 and its "
    "change from asking alone.",
)
@click.option(
    "--split",
    type=click.Choice(["all", "tune", "heldout"]),
    default="all",
    show_default=True,
    help="Which split to ask: of JSON-lines question sets, or of SQuAD-format articles (tune: the first "
    "half, heldout: the rest).",
)
@click.option(
    "--misses",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every question whose top passage is wrong to this JSON-lines file.",
)
@index_option
@json_option
def evaluate_command(
    dataset: Path,
    top_k: int,
    variants: tuple[str, ...],
    negatives: Path | None,
    keywords: Path | None,
    followups: Path | None,
    unrelated_history: bool,
    split: str,
    misses: Path | None,
    index_dir: Path | None,
    as_json: bool,
) -> None:
    """Measure retrieval on DATASET, asked in every way people type.

    DATASET is SQuAD-format JSON (each paragraph indexed as a document; a hit is a passage of the
    question's own paragraph) or JSON lines of {"question", "answer"} asked of --index (default: the
    built-in article; a hit is a passage holding the answer). Reports Hit@1, Hit@5, MRR, answer in
    the top passage, answer in the best sentence (over right top passages) and the share found.
    """
    from .evaluate import DatasetError, evaluate, rows_as_table

    missed: list[dict] = []
    try:
        report = evaluate(
            dataset,
            top_k,
            list(variants) or None,
            index_dir,
            split,
            negatives,
            missed,
            keywords,
            followups,
            unrelated_history,
        )
    except (DatasetError, store.IndexFileError) as error:
        fail(str(error))
    if misses:
        misses.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in missed), encoding="utf-8")
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else "\n".join(rows_as_table(report)))


if __name__ == "__main__":
    main()
