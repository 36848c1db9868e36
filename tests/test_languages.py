"""Whose language: a person's own replies speak theirs, what a channel or the public reads
speaks the campaign's, and an anonymous signer's language is never looked up."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.console.render import render
from adapters.console.repl import terminal_language
from bot import commands as cmd
from bot import handlers, views
from bot.domain.identity import Actor, Place, SignerKey
from bot.domain.replies import Visibility
from bot.service import Service
from storage.database import Database
from storage.tables import OutboxRow
from tests.conftest import fetch, informed, person
from tests.test_cli import run
from tests.web_site import Site

ORG = person("org")


async def _french_campaign(service: Service, slug: str = "greve", goal: int = 4) -> None:
    reply = await service.handle(
        ORG,
        "/petition",
        f'new {slug} title:"Pas de Maven" goal:{goal} lang:fr Nous, soussignés, refusons.',
    )
    assert not reply.error, reply.text
    assert "français" in reply.text  # the organizer is told what the channels will read


async def test_a_german_reader_in_a_french_campaign(service: Service) -> None:
    await _french_campaign(service)
    posted = await service.handle(ORG, "/petition", "post greve", Place("discord", "T1", "C1"))
    assert posted.locale == "fr" and not posted.error, posted.text
    anna = replace(person("anna", "discord"), locale="de")
    await informed(service, anna)
    signed = await service.handle(anna, "/sign", "greve Ich bin dabei")
    assert signed.locale == "de"
    assert "Danke, Anna: Du hast **Pas de Maven** unterschrieben." in signed.text
    assert "Thank you" not in signed.text and "Merci" not in signed.text
    assert "1 von 4 Unterschriften" in render(signed)  # the tally speaks German too

    announced = await views.announcement(
        service.ctx, (await handlers.common.resolve(service.ctx, "greve", "")).id
    )
    assert announced.visibility is Visibility.CHANNEL and announced.locale == "fr"
    assert "Signatures ouvertes, sans échéance." in announced.text
    assert [a.label for a in announced.actions] == [
        "Signer",
        "Signer anonymement",
        "Lire la lettre",
    ]

    # The milestone (1 of 4 is 25%) waits in the outbox in French, for every linked channel.
    rows = [
        json.loads(r.payload) if isinstance(r.payload, str) else r.payload
        for r in await fetch(service.db, select(OutboxRow.__table__))
    ]
    milestones = [p for p in rows if p.get("event", "").startswith("milestone")]
    assert milestones and all("en est à 25" in p["text"] for p in milestones), rows
    assert all(p["lang"] == "fr" for p in milestones)


async def test_without_a_known_language_replies_speak_the_campaigns(service: Service) -> None:
    await _french_campaign(service)
    someone = person("someone")  # the console without LANG: no language known
    status = await service.handle(someone, "/petition", "status greve")
    assert status.locale == "fr" and "Signatures ouvertes, sans échéance." in status.text
    # Slack withholds an anonymous signer's language: the reply says how to choose one.
    withheld = replace(person("quiet", "slack"), locale_withheld=True)
    await informed(service, withheld)
    anonymous = await service.handle(withheld, "/sign", "greve anonymous")
    assert anonymous.locale == "fr" and "anonymement" in anonymous.text
    assert "lang:fr" in anonymous.text  # how to pick another
    chosen = await service.handle(
        replace(person("other", "slack"), locale_withheld=True), "/sign", "greve anonym lang:es"
    )
    assert chosen.locale == "es" and "Antes de tu primera firma" in chosen.text
    # An organizer can't hide the safety notice behind a language nobody reads: whoever signs
    # anonymously for the first time is also told, in the server's language, how to choose.
    first = await service.handle(
        replace(person("new", "slack"), locale_withheld=True), "/sign", "greve anonymous"
    )
    assert "Avant votre première signature" in first.text
    assert "For another language, add it to the command" in first.text


async def test_lang_is_checked_and_editable(service: Service) -> None:
    refused = await service.handle(ORG, "/petition", 'new x1 title:"T" goal:3 lang:klingon Text')
    assert refused.error and "klingon" in refused.text and "pt_BR" in refused.text
    await _french_campaign(service)
    edited = await service.handle(ORG, "/petition", "edit greve lang:pt-BR")
    assert not edited.error, edited.text
    status = await service.handle(person("someone"), "/petition", "status greve")
    assert status.locale == "pt_BR" and "Aberta, sem prazo." in status.text
    help_de = await service.run(replace(ORG, locale="de"), cmd.Help())
    assert "Für Organisierende:" in help_de.text and "/sign [KAMPAGNE]" in help_de.text


async def test_errors_with_usage_speak_the_persons_language(service: Service) -> None:
    maria = replace(person("maria", "slack"), locale="es")
    reply = await service.handle(maria, "/petition", "frobnicate")
    assert reply.error and reply.locale == "es"
    assert "no es un comando de /petition" in reply.text
    assert reply.usage is not None and reply.usage.startswith("/petition help")
    rendered = render(reply)
    assert "Uso: /petition help" in rendered and "Usage" not in rendered


# ---- the public page: the campaign's words, the reader's language for the page's own ------


async def test_the_public_page_speaks_the_campaigns_or_the_readers_language(
    service: Service, site: Site
) -> None:
    await _french_campaign(service)
    assert not (await service.handle(ORG, "/petition", "publish greve")).error
    french, headers = await site.page("/c/greve")
    assert '<html lang="fr">' in french and "Qui a signé" in french
    assert "Accept-Language" in headers["Vary"]
    # One page for everyone the link reaches: the campaign's language, whatever the browser
    # says (never German headings beside a French chart), unless `?lang=` asks.
    german, _ = await site.page("/c/greve", **{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in german and "Qui a signé" in german
    assert "Wer unterschrieben hat" not in german and 'src="/c/greve/chart.svg"' in german
    chosen, _ = await site.page("/c/greve?lang=pt-BR", **{"Accept-Language": "de"})
    assert '<html lang="pt-BR">' in chosen and "Quem assinou" in chosen
    assert 'src="/c/greve/chart.svg?lang=pt_BR"' in chosen  # its chart speaks the same
    chart = (await site.get("/c/greve/chart.svg?lang=pt_BR"))[1].decode()
    french_chart = (await site.get("/c/greve/chart.svg"))[1].decode()
    assert chart != french_chart and "assinaturas" in chart
    unknown, _ = await site.page("/c/greve?lang=<script>", **{"Accept-Language": "ja"})
    assert '<html lang="fr">' in unknown and "<script>" not in unknown
    missing_de = await site.http.get(site.url + "/c/nothere", headers={"Accept-Language": "de"})
    assert missing_de.status == 404 and "Nicht gefunden" in await missing_de.text()


# ---- the console: LANG, or --lang ----------------------------------------------------------


def _console(
    tmp_path: Path, lines: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, "console", *args, stdin=lines, env=env)


def test_the_console_speaks_the_terminals_language_or_the_one_asked(tmp_path: Path) -> None:
    session = '/petition new paro title:"Paro" goal:5 El texto.\n/sign paro\n/petition nada\n'
    spanish = _console(tmp_path, session, LANG="es_ES.UTF-8")
    assert spanish.returncode == 0, spanish.stderr
    out = spanish.stdout
    assert "Se creó la petición Paro (`paro`)." in out
    assert "Gracias, " in out and "firmaste Paro" in out
    assert "1 de 5 firmas (20\u00a0%)" in out  # a no-break space before %, as in Spanish
    assert "`nada` no es un comando de /petition" in out and "(solo tú ves esto)" in out
    assert "Thank you" not in out and "only you" not in out

    german = _console(tmp_path, "/petition status paro\n", "--lang", "de", LANG="es_ES.UTF-8")
    assert "Offen, ohne Frist." in german.stdout and "(nur du siehst das)" in german.stdout

    wrong = _console(tmp_path, "", "--lang", "tlh")
    assert wrong.returncode != 0 and len(wrong.stderr.strip().splitlines()) == 1
    assert "tlh" in wrong.stderr and "Traceback" not in wrong.stderr


def test_terminal_language_reads_gettexts_variables_in_order() -> None:
    assert terminal_language({"LANG": "pt_BR.UTF-8"}) == "pt_BR"
    assert terminal_language({"LANGUAGE": "fr:de", "LANG": "es_ES.UTF-8"}) == "fr"
    assert terminal_language({"LC_ALL": "C", "LANG": "de_DE.UTF-8"}) == "de"
    assert terminal_language({"LANG": "C.UTF-8"}) is None
    assert (
        terminal_language(
            dict(os.environ) | {"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": ""}
        )
        is None
    )


def test_an_actor_without_a_language_reads_the_campaigns() -> None:
    assert Actor("slack", "T1", "U1", "x").locale is None


def _english_fragments() -> set[str]:
    """Pieces of English source sentences long enough to be unmistakable (the words between
    placeholders), for spotting a reply that skipped the catalog."""
    from babel.messages.pofile import read_po

    with (Path(__file__).resolve().parents[1] / "bot/locales/messages.pot").open("rb") as f:
        template = read_po(f)
    found = set()
    for message in template:
        for source in [message.id] if isinstance(message.id, str) else message.id:
            for piece in re.split(r"\{[a-z_]+\}|`[^`]*`|\*\*", source or ""):
                piece = piece.strip(" .,:;()")
                words = re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", piece)
                if len(piece) >= 16 and words and not piece.startswith("/"):
                    found.add(piece)
    return found


@pytest.mark.parametrize("language", ["de", "fr", "es", "pt_BR"])
async def test_a_whole_session_leaves_no_english_behind(service: Service, language: str) -> None:
    """Every reply of an everyday session, read by someone in another language: not one
    English sentence of ours (the letter and names are the people's own words)."""
    english = _english_fragments()
    org = replace(person("org"), locale=language)
    signer = replace(person("sam"), locale=language)
    await informed(service, signer)
    script = [
        (
            org,
            '/petition new strike title:"S" kind:pledge threshold:3 action:"go" '
            f"deadline:2026-12-31 lang:{language} Text",
        ),
        (org, f'/petition new letter title:"L" goal:2 lang:{language} Text'),
        (signer, '/sign strike role:"Dev" I am in'),
        (signer, "/sign strike"),
        (signer, "/sign letter anonymous"),
        (signer, "/petition status strike"),
        (signer, "/petition list"),
        (signer, "/petition help"),
        (signer, "/petition safety"),
        (signer, "/sign mine"),
        (signer, "/petition read letter"),
        (org, "/petition edit strike threshold:2"),
        (org, '/petition edit letter title:"L2"'),
        (org, "/petition organizers strike"),
        (org, "/petition audit strike"),
        (org, "/petition export letter md"),
        (org, "/petition reminders"),
        (org, "/petition close letter"),
        (signer, "/unsign letter"),
        (signer, "/forget-me"),
        (signer, "/petition frobnicate"),
        (signer, "/sign nothere"),
        (org, '/petition new bad title:"B" goal:0 T'),
        (org, '/petition new bad2 title:"B" goal:5 deadline:yesterday T'),
        (signer, "/petition purge strike"),
    ]
    for actor, line in script:
        reply = await service.handle_line(actor, line)
        shown = render(reply)
        leaked = [piece for piece in english if piece in shown]
        assert leaked == [], (language, line, leaked[:3], shown)


async def test_direct_messages_speak_each_signers_language(service: Service) -> None:
    """A pledge's result and an edited letter reach each named signer in their language; the
    channel still hears the campaign's. An anonymous signer keeps no language (nor anything)."""
    reply = await service.handle(
        ORG,
        "/petition",
        'new greve kind:pledge threshold:3 deadline:2026-12-31 action:"faire grève" '
        'title:"Grève" lang:fr Nous cesserons le travail.',
    )
    assert not reply.error, reply.text
    anna = replace(person("anna", "discord"), locale="de")
    joao = replace(person("joao", "slack"), locale="pt_BR")
    quiet = replace(person("quiet", "slack"), locale_withheld=True)
    await informed(service, anna, joao, quiet)
    assert not (await service.handle(quiet, "/sign", "greve anonymous")).error
    assert not (await service.handle(joao, "/sign", "greve")).error
    assert not (await service.handle(anna, "/sign", "greve")).error  # 3 of 3: it's on
    edited = await service.handle(ORG, "/petition", 'edit greve title:"Grève générale"')
    assert not edited.error, edited.text

    rows = await fetch(service.db, select(OutboxRow.__table__))
    dms = {
        (r.target, json.loads(r.payload)["event"]): json.loads(r.payload)
        for r in rows
        if r.kind == "dm"
    }
    success = dms[(anna.user_id, "succeeded")]
    assert success["lang"] == "de" and success["text"].startswith("Es geht los: 3 von uns")
    brazil = dms[(joao.user_id, "succeeded")]
    assert brazil["lang"] == "pt_BR" and brazil["text"].startswith("Vai acontecer: 3 de nós")
    letter = dms[(anna.user_id, "edited:2")]
    assert letter["lang"] == "de" and "wurde bearbeitet" in letter["text"]
    assert "Feld „Titel“ (war „Grève“, jetzt „Grève générale“)" in letter["text"]
    assert not any(target == quiet.user_id for target, _event in dms)  # no identity, no DM

    from storage.tables import SignatureRow

    languages = await fetch(service.db, select(SignatureRow.anonymous, SignatureRow.language))
    assert sorted(languages, key=str) == sorted(
        [(True, None), (False, "de"), (False, "pt_BR")], key=str
    )


async def test_the_servers_language_belongs_to_each_service_not_the_process(
    db: Database, key: SignerKey
) -> None:
    """UNDERSIGNED_LANGUAGE is a dependency: a German server beside an English one in the same
    process speaks German, its campaigns keep German, and the English one is untouched."""
    german = Service(db, key, language="de")
    english = Service(db, key, language="en")
    made = await german.handle(ORG, "/petition", 'new ohne title:"Ohne Maven" goal:3 Wir nicht.')
    assert not made.error and made.locale == "de", made.text
    assert "Deutsch" in made.text
    helped = await english.handle(ORG, "/petition", "help")
    assert helped.locale == "en" and "Sign" in helped.text
    stranger = replace(person("kim", "console"), locale=None)
    listed = await german.handle(stranger, "/petition", "list")
    assert listed.locale == "de"
    posted = await english.handle(ORG, "/petition", "post ohne", Place("discord", "T1", "C1"))
    assert posted.locale == "de"  # the campaign keeps the language it was made in


async def test_campaigns_made_before_languages_were_stored_keep_speaking_the_servers(
    tmp_path: Path,
) -> None:
    """A campaign stored without a language (made by an earlier version) is settled at start to
    the server's language, so an upgrade changes nothing a reader sees."""
    from runtime.bootstrap import open_service
    from runtime.config import Settings
    from storage.tables import CampaignRow

    url = f"sqlite:///{tmp_path / 'old.db'}"
    settings = Settings(DATABASE_URL=url, UNDERSIGNED_LANGUAGE="fr")
    async with open_service(settings) as service:
        made = await service.handle(ORG, "/petition", 'new vieux title:"Vieux" goal:3 Non.')
        assert not made.error, made.text
        await service.db.write(
            lambda conn: conn.execute(CampaignRow.__table__.update().values(language=None))
        )
    async with open_service(settings) as service:
        posted = await service.handle(ORG, "/petition", "post vieux", Place("discord", "T", "C"))
        assert posted.locale == "fr", posted.text


async def test_the_operator_is_answered_in_the_servers_language_not_the_campaigns(
    service: Service,
) -> None:
    """`undersigned petition publish` at a terminal with LANG=C answered an English operator
    in the campaign's German; a reply one person reads speaks theirs, else the server's."""
    await _french_campaign(service)
    operator = Actor("cli", "local", "root", "root", operator=True)
    published = await service.handle(operator, "/petition", "publish greve")
    assert published.locale == "en" and "is now public" in published.text, published.text
