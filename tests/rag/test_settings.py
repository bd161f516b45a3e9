"""Settings: rag.toml and RAG_* values are read exactly or refused with one ConfigError."""

from __future__ import annotations

import pytest

from rag.errors import ConfigError
from rag.settings import Settings, load_settings


def from_toml(tmp_path, text: str) -> Settings:
    config = tmp_path / "rag.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config, env={})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("collection = 123", "collection has an invalid value 123: expected text"),
        ("chroma_host = 5", "chroma_host has an invalid value 5: expected text"),
        ("llm_timeout = true", "llm_timeout has an invalid value True: expected a number"),
        ("top_k = 0", "top_k must be at least 1; got 0"),
        ('retrieval_mode = "fuzzy"', "retrieval_mode must be one of hybrid, dense, keyword; got 'fuzzy'"),
        ("top_k = 1.7", "top_k has an invalid value 1.7: expected a whole number"),
        ('top_k = "five"', "expected a whole number"),
        ("top_k = true", "expected a whole number"),
        (
            'verify_citations = "maybe"',
            "verify_citations has an invalid value 'maybe': expected true or false",
        ),
        ("verify_citations = 2", "expected true or false"),
        ('llm_timeout = "soon"', "expected a number"),
        ("data_dir = 3", "expected a folder"),
        ("max_document_chars = 0", "max_document_chars must be at least 1"),
        ('api_keys = ["has space"]', "api_keys must be non-empty and hold no spaces"),
    ],
)
def test_a_wrong_value_in_rag_toml_is_one_config_error(tmp_path, line, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_toml(tmp_path, line + "\n")


def test_exact_values_are_read_as_their_type(tmp_path):
    settings = from_toml(
        tmp_path,
        'top_k = 7\ncandidates = 40.0\nverify_citations = "off"\nllm_timeout = 5\napi_keys = ["k1"]\n',
    )
    assert (settings.top_k, settings.candidates, settings.verify_citations) == (7, 40, False)
    assert settings.llm_timeout == 5.0 and settings.api_keys == ("k1",)


@pytest.mark.parametrize(("raw", "expected"), [("yes", True), ("ON", True), ("0", False), ("False", False)])
def test_true_and_false_words_from_the_environment(tmp_path, raw, expected):
    assert load_settings(env={"RAG_VERIFY_CITATIONS": raw}).verify_citations is expected


@pytest.mark.parametrize(
    ("name", "raw"), [("RAG_VERIFY_CITATIONS", "maybe"), ("RAG_TOP_K", "1.7"), ("RAG_TOP_K", "x")]
)
def test_a_wrong_environment_value_is_a_config_error(name, raw):
    with pytest.raises(ConfigError, match="has an invalid value"):
        load_settings(env={name: raw})


def test_api_keys_from_the_environment_are_comma_separated():
    assert load_settings(env={"RAG_API_KEYS": "abc, def,"}).api_keys == ("abc", "def")


def test_settings_built_in_code_are_type_checked_too():
    with pytest.raises(ConfigError, match="collection must be text"):
        Settings(collection=123)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="top_k must be a whole number"):
        Settings(top_k=1.7)  # type: ignore[arg-type]


def test_a_wrong_value_names_where_it_was_read(tmp_path):
    with pytest.raises(
        ConfigError, match=r"top_k has an invalid value 1\.7: expected a whole number \(from .*rag\.toml\)$"
    ):
        from_toml(tmp_path, "top_k = 1.7\n")
    with pytest.raises(
        ConfigError, match=r"invalid value '1\.7': expected a whole number \(from RAG_TOP_K\)$"
    ):
        load_settings(env={"RAG_TOP_K": "1.7"})


def test_the_environment_overrides_rag_toml_and_an_empty_variable_is_unset(tmp_path):
    config = tmp_path / "rag.toml"
    config.write_text('[rag]\ntop_k = 7\ncollection = "from-file"\n', encoding="utf-8")
    settings = load_settings(config, env={"RAG_TOP_K": "3", "RAG_COLLECTION": ""})
    assert (settings.top_k, settings.collection) == (3, "from-file")


def test_unknown_or_malformed_files_are_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown settings in .*rag.toml: top_kk"):
        from_toml(tmp_path, "top_kk = 3\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        from_toml(tmp_path, "top_k = \n")
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "none.toml", env={})


def test_copies_are_validated_again():
    settings = Settings()
    assert settings.with_overrides(top_k=3, collection=None).top_k == 3
    with pytest.raises(ConfigError, match="top_k must be at least 1; got 0"):
        settings.with_overrides(top_k=0)
    with pytest.raises(ConfigError, match="data_dir must be a folder or file path; got 3"):
        Settings(data_dir=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown setting 'top_kk'"):
        Settings(top_kk=3)  # type: ignore[call-arg]


def test_the_cli_shows_a_bad_setting_as_one_line(tmp_path, capsys):
    from cli.main import main

    config = tmp_path / "rag.toml"
    config.write_text('verify_citations = "maybe"\n', encoding="utf-8")
    assert main(["--config", str(config), "docs"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "rag: error: setting verify_citations has an invalid value 'maybe': expected true or false"
    )
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_chroma_url_and_token_name_the_server_for_every_command(tmp_path):
    env = {"RAG_CHROMA_URL": "https://chroma.example:8443", "RAG_CHROMA_TOKEN": "t0ken"}
    settings = load_settings(env=env)
    assert settings.chroma_server == ("chroma.example", 8443, True)
    assert settings.chroma_headers == {"Authorization": "Bearer t0ken"} and "t0ken" not in repr(settings)
    assert Settings(chroma_url="http://10.0.0.5").chroma_server == ("10.0.0.5", 8000, False)
    assert Settings(chroma_host="db", chroma_port=9000).chroma_server == ("db", 9000, False)
    assert Settings().chroma_server is None and Settings().chroma_headers == {}
    config = tmp_path / "rag.toml"
    config.write_text('chroma_url = "http://chroma:8001"\nchroma_token = "x"\n', encoding="utf-8")
    assert load_settings(config, env={}).chroma_server == ("chroma", 8001, False)


@pytest.mark.parametrize(
    "url", ["ftp://h", "http://", "http://h/path", "http://h:0", "http://h?x=1", "chroma:8000"]
)
def test_a_bad_chroma_url_is_a_config_error_naming_it(url):
    with pytest.raises(ConfigError, match="chroma_url"):
        Settings(chroma_url=url)


def test_credentials_in_the_chroma_url_are_refused_without_echoing_them():
    with pytest.raises(ConfigError, match="chroma_token") as caught:
        Settings(chroma_url="http://admin:hunter2@h:8000")
    assert "hunter2" not in str(caught.value)
