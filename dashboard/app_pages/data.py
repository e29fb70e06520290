"""Data: quality of the study database, methodology, and the import form."""

import streamlit as st

from analysis.store import resolve_db_path
from analysis.views import import_form
from analysis.views.data_quality import (
    completeness,
    database_facts,
    follow_up_coverage,
    import_history,
    method_sections,
)
from analysis.views.display import text_number
from dashboard import auth, cache
from dashboard.empty_state import no_release_selected, show_empty_selection
from dashboard.i18n import t, translator
from dashboard.safe_text import md_literal
from dashboard.widgets import note_markdown, show_table, show_tabs

filters = st.session_state["filters"]

st.title(t("Data"))


def data_quality() -> None:
    facts = cache.run_view(database_facts, filters)
    cols = st.columns(3)
    cols[0].metric(t("Schema version"), t("{schema} (program: {program})",
                                          schema=facts.schema_version,
                                          program=facts.program_schema_version))
    cols[1].metric(t("Pseudonymization key fingerprint"), facts.key_fingerprint or t("none"))
    cols[2].metric(t("Database created"), (facts.created_at or t("unknown"))[:10])

    st.subheader(t("Follow-up coverage"))
    if no_release_selected(filters):  # the one part of this page about the selection
        show_empty_selection()
    else:
        coverage = cache.run_view(follow_up_coverage, filters)
        st.caption(t("{releases} releases in the selection. Follow-up available = days from "
                     "release to the end of follow-up (follow_up_end).",
                     releases=text_number(coverage.releases, translator())))
        left, right = st.columns(2)
        with left:
            show_table(coverage.bands, key="data-follow-up-bands",
                       caption=t("Releases by whole years of follow-up available."))
        with right:
            show_table(coverage.complete, key="data-follow-up-complete",
                       caption=t("Share (%) of releases whose follow-up covers the whole "
                                 "horizon."))

    st.subheader(t("Completeness"))
    show_table(cache.run_view(completeness, filters), key="data-completeness",
               caption=t("Whole tables (not the selection): filled values per column, in %."))

    st.subheader(t("Imports"))
    history = cache.run_view(import_history, filters)
    show_table(history.batches, key="data-import-log",
               caption=t("Every import, newest first; rejected rows were not loaded."))
    show_table(history.files, key="data-import-files", caption=t("Files of each import."))


def methodology() -> None:
    # The sections themselves are the English documentation, read at run time.
    st.caption(t("From the project's documentation (docs/metrics.md, docs/impact.md)."))
    for section in cache.run_view(method_sections, filters):
        with st.expander(f"{section.title} — {section.document}"):
            st.markdown(section.markdown)


def importing() -> None:
    # With access control, administrators import (whoever started the server); without
    # it, the analyst who started the dashboard with DESIST_ALLOW_IMPORT=1.
    controlled = auth.access_config() is not None
    allowed = auth.current_scope().may_import if controlled else import_form.import_allowed()
    db = resolve_db_path(None)
    # the path goes inside a code span: only ` could escape it
    st.markdown(t("Import a dataset in the data contract's format (`docs/data-contract.md`) "
                  "into `{db}`. Imports are all or nothing; pages show the new data right "
                  "after.", db=str(db).replace("`", "'")))
    if not allowed and controlled:
        st.info(t("Only an administrator may import data. You can still check files here."),
                icon=":material/lock:")
    elif not allowed:
        st.info(t("Importing is switched off. Start the dashboard with write access to enable "
                  "it: `DESIST_ALLOW_IMPORT=1 desist dashboard`. You "
                  "can still check files here."), icon=":material/lock:")
    uploads = {}
    for table in (*import_form.REQUIRED_TABLES, *import_form.OPTIONAL_TABLES):
        required = table in import_form.REQUIRED_TABLES
        file = st.file_uploader(t("{table} (required)", table=table) if required
                                else t("{table} (optional)", table=table),
                                type=["csv", "parquet", "xlsx"], key=f"data-upload-{table}")
        if file is not None:
            uploads[table] = (file.name, file.getvalue())
    if uploads:
        prepared = import_form.prepare_upload(uploads, db)
        try:
            if prepared.error:
                st.error(md_literal(prepared.error))  # quotes file names and values
            elif prepared.ok:
                st.success(t("The files meet the data contract."), icon=":material/check:")
            else:
                st.error(t("{n} problem(s) found.", n=len(prepared.report.problems)))
                show_table(prepared.problems, key="data-problems",
                           caption=t("Line numbers as a spreadsheet shows them (header = 1)."))
            skip = st.checkbox(t("Import the valid rows and skip the invalid ones"),
                               key="data-skip-invalid", disabled=not allowed)
            if st.button(t("Import"), type="primary", key="data-import",
                         disabled=not allowed or prepared.staged is None):
                outcome = import_form.import_staged(prepared.staged, db, skip_invalid=skip)
                auth.record("import", mode="skip_invalid" if skip else "all_or_nothing",
                            batch=outcome.report.batch_id if outcome.report else None,
                            files=sorted(name for name, _ in uploads.values()),
                            imported=outcome.ok)
                if outcome.ok:
                    cache.clear()
                    st.success(note_markdown(outcome.message))
                    show_table(outcome.tables(), key="data-import-result")
                else:
                    st.error(note_markdown(outcome.message))
        finally:
            if prepared.staged is not None:
                import_form.discard(prepared.staged)


# One tab at a time: the methodology alone is the project's documentation (its code
# blocks are the slowest thing a browser draws here); the page runs again, from the
# cache, when the reader opens another tab.
show_tabs("data-tab", [("quality", t("Data quality"), data_quality),
                       ("methods", t("Methodology"), methodology),
                       ("import", t("Import"), importing)])
