// The tokenizers against libsentencepiece: the VocabularyTokenizer over the pieces and scores
// of kjv-llama-6m's tokenizer.model (read through libsentencepiece's API) must give the ids
// and text libsentencepiece gives; the SentencePieceTokenizer must give the token count the
// perplexity protocol implies (EXPECTED.md) and the ids Debian's spm_encode printed. Small
// hand-worked vocabularies check the rules the fixture does not exercise.
#include "core/llm/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <QtTest>
#include <limits>

#include "core/error.h"
#include "core/io/llama2c_tokenizer.h"
#include "core/llm/checkpoint_tokenizer.h"
#include "core/llm/sentencepiece_tokenizer.h"
#include "core/llm/vocabulary_tokenizer.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

std::string modelPath() { return test::llmFixture("kjv-llama-6m/tokenizer.model"); }

std::string toStd(const QByteArray& bytes) { return std::string(bytes.constData(), bytes.size()); }

// The vocabulary straight from libsentencepiece's API, not through the code under test.
Vocabulary vocabularyOf(const sentencepiece::SentencePieceProcessor& sp) {
    Vocabulary v;
    for (int id = 0; id < sp.GetPieceSize(); ++id) {
        v.pieces.push_back(sp.IdToPiece(id));
        v.scores.push_back(sp.GetScore(id));
        v.kinds.push_back(sp.IsControl(id)   ? PieceKind::Control
                          : sp.IsUnknown(id) ? PieceKind::Unknown
                          : sp.IsByte(id)    ? PieceKind::Byte
                          : sp.IsUnused(id)  ? PieceKind::Unused
                                             : PieceKind::Normal);
    }
    v.bos = sp.bos_id();
    v.eos = sp.eos_id();
    v.unknown = sp.unk_id();
    v.addSpacePrefix = true;  // the model's normalizer_spec.add_dummy_prefix
    return v;
}

QString idsText(const std::vector<int>& ids) {
    QStringList parts;
    for (int id : ids) parts << QString::number(id);
    return parts.join(' ');
}

// Where two id lists first differ, for a readable failure.
QByteArray firstDifference(const std::vector<int>& got, const std::vector<int>& want) {
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    const auto window = [&](const std::vector<int>& ids) {
        const std::size_t from = i < 3 ? 0 : i - 3;
        return idsText(std::vector<int>(ids.begin() + long(std::min(from, ids.size())),
                                        ids.begin() + long(std::min(i + 5, ids.size()))));
    };
    return QString("sizes %1 and %2, first difference at %3: got [%4], libsentencepiece [%5]")
        .arg(got.size())
        .arg(want.size())
        .arg(i)
        .arg(window(got), window(want))
        .toUtf8();
}

// The texts the fixture's evaluation text never holds: spaces in every position, other
// scripts, characters outside the vocabulary (byte fallback), bytes that are not UTF-8.
std::vector<std::pair<const char*, QByteArray>> edgeCases() {
    std::vector<std::pair<const char*, QByteArray>> rows;
    const auto row = [&](const char* name, QByteArray text) { rows.emplace_back(name, text); };
    row("empty", "");
    row("one letter", "a");
    row("one space", " ");
    row("two spaces", "  ");
    row("leading spaces", "   And the Lord");
    row("trailing spaces", "the Lord   ");
    row("multiple spaces", "And  the   Lord    said");
    row("newline", "\n");
    row("newlines", "unto him:\n\nGo up\n");
    row("crlf", "one\r\ntwo\r\n");
    row("tabs", "\tand\tthe\t\tLord\t");
    row("accented", "café naïve résumé Ærøskøbing Ωmega");
    row("cjk", "日本語のテキストと中文");
    row("emoji", "I 🙂 the 👍🏽 and 👨‍👩‍👧");
    row("digits", "0123456789 2024 3.14159 1,000,000 chapter 22:21");
    row("punctuation runs", "!!! ??? ... ,,, ;;; --- ''' \"\"\" (((*))) [[]] {{}}");
    row("quoted", "\"Behold,\" he said; (and it was so) -- [selah]!");
    row("symbols", "a@b.c #tag $5 % ^ & * _ + = | \\ / < > ~ `");
    row("control characters", QByteArray("a\x01\x1f\x7f"
                                         "b",
                                         5));
    row("NUL", QByteArray("a\0b", 3));
    row("literal space piece", "\xE2\x96\x81the \xE2\x96\x81\xE2\x96\x81");
    row("literal special pieces", "<s> </s> <unk> <pad> <0x41> <0x0A>");
    row("invalid byte",
        "a\xFF"
        "b\xFE");
    row("overlong", "\xC0\xAF \xE0\x80\xAF");
    row("surrogate", "x\xED\xA0\x80y");
    row("past U+10FFFF", "\xF4\x90\x80\x80!");
    row("truncated character", "end\xE2\x96");
    row("lone continuation",
        "\x80\xBF"
        "ab");
    row("long run", QByteArray(300, 'e'));
    row("long spaces", QByteArray(100, ' '));
    row("repeated word", QByteArray("the ").repeated(200));
    row("mixed", "In the beginning 起初 — «God» créa 🌍\tand\nit was good.");
    return rows;
}

Vocabulary handMade(const std::vector<std::pair<std::string, float>>& pieces,
                    std::vector<PieceKind> kinds = {}) {
    Vocabulary v;
    v.pieces = {"<unk>", "<s>", "</s>"};
    v.scores = {0, 0, 0};
    v.kinds = {PieceKind::Unknown, PieceKind::Control, PieceKind::Control};
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        v.pieces.push_back(pieces[i].first);
        v.scores.push_back(pieces[i].second);
        v.kinds.push_back(i < kinds.size() ? kinds[i] : PieceKind::Normal);
    }
    return v;
}

}  // namespace

class TokenizerTest : public QObject {
    Q_OBJECT
    sentencepiece::SentencePieceProcessor m_sp;
    std::unique_ptr<VocabularyTokenizer> m_vocab;

    std::vector<int> reference(const std::string& text) {
        std::vector<int> ids;
        const auto status = m_sp.Encode(text, &ids);
        if (!status.ok()) qFatal("libsentencepiece: %s", status.ToString().c_str());
        return ids;
    }

private slots:
    void initTestCase() {
        const auto status = m_sp.Load(modelPath());
        QVERIFY2(status.ok(), status.ToString().c_str());
        QCOMPARE(m_sp.GetPieceSize(), 4096);
        m_vocab = std::make_unique<VocabularyTokenizer>(vocabularyOf(m_sp), "kjv vocabulary");
    }

    void encodesAsSentencePiece_data() {
        QTest::addColumn<QByteArray>("text");
        for (const auto& [name, text] : edgeCases()) QTest::newRow(name) << text;
    }
    void encodesAsSentencePiece() {
        QFETCH(QByteArray, text);
        const std::string s = toStd(text);
        const std::vector<int> want = reference(s);
        const std::vector<int> got = m_vocab->encode(s, false);
        QVERIFY2(got == want, firstDifference(got, want).constData());
        std::vector<int> withBos{m_sp.bos_id()};
        withBos.insert(withBos.end(), want.begin(), want.end());
        QVERIFY(m_vocab->encode(s, true) == withBos);
    }

    // The whole evaluation text at once, then each of its lines alone (each begins with the
    // dummy prefix, so a different first merge).
    void encodesTheEvaluationTextAsSentencePiece() {
        const std::string text = test::readBytes(test::llmFixture("eval_revelation.txt"));
        QElapsedTimer timer;
        timer.start();
        const std::vector<int> got = m_vocab->encode(text, false);
        const qint64 ms = timer.elapsed();
        const std::vector<int> want = reference(text);
        QVERIFY2(got == want, firstDifference(got, want).constData());
        qInfo("%zu bytes -> %zu tokens in %lld ms", text.size(), got.size(), ms);

        std::size_t lines = 0;
        for (std::size_t at = 0; at < text.size();) {
            std::size_t end = text.find('\n', at);
            if (end == std::string::npos) end = text.size();
            const std::string line = text.substr(at, end - at);
            const std::vector<int> lineIds = m_vocab->encode(line, false);
            const std::vector<int> lineWant = reference(line);
            QVERIFY2(lineIds == lineWant,
                     (line + ": " + firstDifference(lineIds, lineWant).toStdString()).c_str());
            at = end + 1;
            ++lines;
        }
        QVERIFY(lines > 1000);
    }

    // Decoding what either side encoded, and the sequences encode never gives (BOS and EOS
    // inside, the unknown piece, a byte piece first, a lone "▁").
    void decodesAsSentencePiece_data() {
        QTest::addColumn<QString>("ids");
        const int space = m_sp.PieceToId("\xE2\x96\x81");
        const int the = m_sp.PieceToId("\xE2\x96\x81the");
        const int lord = m_sp.PieceToId("\xE2\x96\x81Lord");
        const int and_ = m_sp.PieceToId("and");
        QVERIFY(space > 0 && the > 0 && lord > 0 && and_ > 0);
        const int byteSpace = m_sp.PieceToId("<0x20>");
        const int byteNewline = m_sp.PieceToId("<0x0A>");
        const int bos = m_sp.bos_id(), eos = m_sp.eos_id(), unk = m_sp.unk_id();
        const auto row = [](const char* name, std::vector<int> ids) {
            QTest::newRow(name) << idsText(ids);
        };
        row("nothing", {});
        row("BOS only", {bos});
        row("text", {the, lord});
        row("after BOS", {bos, the, lord});
        row("after BOS and EOS", {bos, eos, the});
        row("EOS inside", {the, eos, lord});
        row("BOS inside", {the, bos, the});
        row("unknown first", {unk, the});
        row("unknown after BOS", {bos, unk, lord});
        row("byte space first", {byteSpace, the});
        row("byte newline after BOS", {bos, byteNewline, the, byteNewline});
        row("lone space piece", {space, the});
        row("space pieces", {bos, space, space, lord});
        row("no leading space", {and_, the});
    }
    void decodesAsSentencePiece() {
        QFETCH(QString, ids);
        std::vector<int> list;
        for (const QString& id : ids.split(' ', Qt::SkipEmptyParts)) list.push_back(id.toInt());
        QCOMPARE(QByteArray::fromStdString(m_vocab->decode(list)),
                 QByteArray::fromStdString(m_sp.DecodeIds(list)));
    }

    // Valid UTF-8 survives encode then decode (a "▁" in the text comes back as a space, in
    // libsentencepiece too), and streaming token by token gives the same.
    void decodesWhatItEncodes_data() { encodesAsSentencePiece_data(); }
    void decodesWhatItEncodes() {
        QFETCH(QByteArray, text);
        if (QString::fromUtf8(text).toUtf8() != text) QSKIP("not UTF-8: U+FFFD comes back");
        const std::string s = toStd(text);
        const QByteArray expected = QByteArray(text).replace("\xE2\x96\x81", " ");
        const std::vector<int> ids = m_vocab->encode(s, true);
        QCOMPARE(QByteArray::fromStdString(m_vocab->decode(ids)), expected);
        QCOMPARE(QByteArray::fromStdString(m_sp.DecodeIds(ids)), expected);
        std::string streamed;
        for (std::size_t i = 0; i < ids.size(); ++i)
            streamed += m_vocab->tokenText(i == 0 ? -1 : ids[i - 1], ids[i]);
        QCOMPARE(QByteArray::fromStdString(streamed), expected);
    }

    // EXPECTED.md: 71 chunks of 256 tokens, the partial last chunk dropped.
    void sentencePieceTokenizerGivesThePerplexityTokenCount() {
        const auto tokenizer = loadSentencePieceTokenizer(modelPath());
        const std::string text = test::readBytes(test::llmFixture("eval_revelation.txt"));
        const std::vector<int> ids = tokenizer->encode(text, true);
        QCOMPARE(ids.front(), 1);
        QVERIFY2(ids.size() >= 71 * 256 && ids.size() < 72 * 256,
                 QByteArray::number(qulonglong(ids.size())).constData());
    }

    // Debian's spm_encode --model=tokenizer.model --output_format=id --extra_options=bos, run
    // on lines 2 and 4 of eval_revelation.txt (spm_encode encodes line by line).
    void sentencePieceTokenizerMatchesSpmEncode_data() {
        QTest::addColumn<QByteArray>("line");
        QTest::addColumn<QString>("ids");
        QTest::newRow("line 2") << QByteArray("Revelation 1") << "1 1062 1522 451 3988 4015";
        QTest::newRow("line 4") << QByteArray(
                                       "  1 The Revelation of Jesus Christ, which God gave unto "
                                       "him, to shew unto his")
                                << "1 282 4015 382 1062 1522 451 271 846 942 4003 413 425 1015 "
                                   "345 364 4003 292 1156 345 339";
    }
    void sentencePieceTokenizerMatchesSpmEncode() {
        QFETCH(QByteArray, line);
        QFETCH(QString, ids);
        const auto tokenizer = loadSentencePieceTokenizer(modelPath());
        QCOMPARE(idsText(tokenizer->encode(toStd(line), true)), ids);
        QCOMPARE(idsText(m_vocab->encode(toStd(line), true)), ids);
        const QStringList lines =
            QString::fromStdString(test::readBytes(test::llmFixture("eval_revelation.txt")))
                .split('\n');
        QVERIFY(lines.contains(QString::fromUtf8(line)));
    }

    void sentencePieceTokenizerDescribesItsModel() {
        const auto tokenizer = loadSentencePieceTokenizer(modelPath());
        QCOMPARE(tokenizer->vocabularySize(), 4096);
        QCOMPARE(tokenizer->bos(), 1);
        QCOMPARE(tokenizer->eos(), 2);
        QVERIFY(tokenizer->addsSpacePrefix());
        QCOMPARE(tokenizer->piece(382), std::string("\xE2\x96\x81The"));
        QCOMPARE(tokenizer->kind(0), PieceKind::Unknown);
        QCOMPARE(tokenizer->kind(1), PieceKind::Control);
        QCOMPARE(tokenizer->piece(3 + 0x0A), std::string("<0x0A>"));
        QCOMPARE(tokenizer->kind(3 + 0x0A), PieceKind::Byte);
        QCOMPARE(tokenizer->kind(382), PieceKind::Normal);
        const Vocabulary mine = tokenizer->vocabulary();
        const Vocabulary api = vocabularyOf(m_sp);
        QVERIFY(mine.pieces == api.pieces);
        QVERIFY(mine.scores == api.scores);
        QVERIFY(mine.kinds == api.kinds);
        QCOMPARE(mine.unknown, 0);
        QCOMPARE(tokenizer->decode({1, 382, 1846}), std::string("The dream"));
        QCOMPARE(tokenizer->tokenText(1, 382), std::string("The"));
        QCOMPARE(tokenizer->tokenText(382, 1846), std::string(" dream"));
        for (int bad : {-1, 4096}) {
            QVERIFY_THROWS_EXCEPTION(Error, tokenizer->piece(bad));
            QVERIFY_THROWS_EXCEPTION(Error, tokenizer->decode({1, bad}));
            QVERIFY_THROWS_EXCEPTION(Error, m_vocab->decode({bad}));
        }
    }

    void sentencePieceTokenizerRefusesOtherFiles() {
        const std::string missing = test::tempDir() + "/missing.model";
        const std::string garbage = test::tempDir() + "/garbage.model";
        test::writeBytes(garbage, "this is not a protocol buffer \xff\xff\xff\xff");
        for (const std::string& path : {missing, garbage}) {
            try {
                loadSentencePieceTokenizer(path);
                QFAIL("accepted a file that is no SentencePiece model");
            } catch (const Error& e) {
                QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(path + ": ")),
                         e.what());
                QVERIFY2(!QString(e.what()).contains('\n'), e.what());
            }
        }
    }

    // Ids from spm_encode ("The dream" -> 382 1846) and llama2.c's encode (llama2c_tokenizer_test).
    void loadsTheCheckpointsTokenizer() {
        LlamaCheckpoint folder;
        folder.path = test::llmFixture("kjv-llama-6m");
        QCOMPARE(idsText(loadCheckpointTokenizer(folder)->encode("The dream", true)),
                 QString("1 382 1846"));
        LlamaCheckpoint file;
        file.path = test::llmFixture("kjv-llama-6m/model.safetensors.index.json");
        QCOMPARE(idsText(loadCheckpointTokenizer(file)->encode("The dream", true)),
                 QString("1 382 1846"));
        LlamaCheckpoint llama2c;
        llama2c.path = test::llmFixture("aidreams260K/aidreams260K.bin");
        llama2c.vocabulary = readLlama2cTokenizer(test::llmFixture("aidreams260K/tok512.bin"), 512);
        QCOMPARE(idsText(loadCheckpointTokenizer(llama2c)->encode("The dream", true)),
                 QString("1 368 430 281 269 435 447"));
        LlamaCheckpoint bare;
        bare.path = test::tempDir();
        try {
            loadCheckpointTokenizer(bare);
            QFAIL("found a tokenizer where there is none");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(bare.path + ": ")),
                     e.what());
            QVERIFY2(QString(e.what()).contains("has no tokenizer.model"), e.what());
        }
    }

    // Options the fixture's model does not use, on small BPE models libsentencepiece trains
    // here from the evaluation text: no byte fallback (unknown pieces), no dummy prefix,
    // user-defined pieces (taken whole). The kinds and add_dummy_prefix come through
    // SentencePieceTokenizer::vocabulary(); the ids and text must be libsentencepiece's.
    void matchesSentencePieceWithOtherOptions_data() {
        QTest::addColumn<QString>("options");
        QTest::addColumn<bool>("bytes");
        QTest::addColumn<bool>("prefix");
        QTest::newRow("no byte fallback, no dummy prefix, user-defined")
            << "--byte_fallback=false --add_dummy_prefix=false "
               "--user_defined_symbols=<sep>,Lord,the"
            << false << false;
        QTest::newRow("byte fallback, dummy prefix, user-defined with a space")
            << "--byte_fallback=true --add_dummy_prefix=true "
               "--user_defined_symbols=<sep>,\xE2\x96\x81the,ea"
            << true << true;
    }
    void matchesSentencePieceWithOtherOptions() {
        QFETCH(QString, options);
        QFETCH(bool, bytes);
        QFETCH(bool, prefix);
        const std::string prefixPath = test::tempDir() + "/trained-" + (bytes ? "bytes" : "plain");
        const std::string args =
            "--input=" + test::llmFixture("eval_revelation.txt") + " --model_prefix=" + prefixPath +
            " --vocab_size=400 --model_type=bpe --normalization_rule_name=identity "
            "--character_coverage=0.98 --remove_extra_whitespaces=false --num_threads=1 "
            "--minloglevel=2 " +
            options.toStdString();
        const auto trained = sentencepiece::SentencePieceTrainer::Train(args);
        QVERIFY2(trained.ok(), trained.ToString().c_str());
        sentencepiece::SentencePieceProcessor sp;
        QVERIFY(sp.Load(prefixPath + ".model").ok());

        const auto tokenizer = loadSentencePieceTokenizer(prefixPath + ".model");
        QCOMPARE(tokenizer->addsSpacePrefix(), prefix);
        const Vocabulary vocabulary = tokenizer->vocabulary();
        QCOMPARE(vocabulary.kinds[std::size_t(sp.PieceToId("<sep>"))], PieceKind::UserDefined);
        QCOMPARE(std::count(vocabulary.kinds.begin(), vocabulary.kinds.end(), PieceKind::Byte),
                 bytes ? 256 : 0);
        const VocabularyTokenizer mine(vocabulary, "trained");

        std::vector<std::pair<std::string, std::string>> texts;
        for (const auto& [name, text] : edgeCases()) texts.emplace_back(name, toStd(text));
        texts.emplace_back("user-defined", "the Lord<sep>said<sep><sep> unto theLord ea eat");
        texts.emplace_back("unknown runs", "\xE6\x97\xA5\xE6\x9C\xAC  \xF0\x9F\x99\x82Q#");
        const std::string eval = test::readBytes(test::llmFixture("eval_revelation.txt"));
        texts.emplace_back("evaluation text", eval);
        for (std::size_t at = 0, line = 0; line < 200; ++line) {
            const std::size_t end = eval.find('\n', at);
            texts.emplace_back("line " + std::to_string(line), eval.substr(at, end - at));
            at = end + 1;
        }
        for (const auto& [name, text] : texts) {
            std::vector<int> want;
            QVERIFY(sp.Encode(text, &want).ok());
            const std::vector<int> got = mine.encode(text, false);
            QVERIFY2(got == want, (name + ": " + firstDifference(got, want).toStdString()).c_str());
            QVERIFY2(mine.decode(got) == sp.DecodeIds(got), name.c_str());
        }
    }

    // Hand-worked: "▁aba" with "ab" and "ba" scored alike merges the leftmost pair first.
    void mergesTheLeftmostOfEqualScores() {
        const VocabularyTokenizer t(
            handMade({{"\xE2\x96\x81", -5}, {"a", -6}, {"b", -7}, {"ab", -1}, {"ba", -1}}), "hand");
        QCOMPARE(idsText(t.encode("aba", false)), QString("3 6 4"));  // ▁ ab a
        QCOMPARE(idsText(t.encode("bab", false)), QString("3 7 5"));  // ▁ ba b
    }

    // Hand-worked: the higher score wins wherever it is; a merged piece merges again.
    void mergesTheHighestScoreFirst() {
        const VocabularyTokenizer t(handMade({{"\xE2\x96\x81", -5},
                                              {"a", -6},
                                              {"b", -7},
                                              {"ab", -3},
                                              {"ba", -2},
                                              {"\xE2\x96\x81"
                                               "a",
                                               -4},
                                              {"\xE2\x96\x81"
                                               "ab",
                                               -1}}),
                                    "hand");
        // ▁ a b a: ba (-2) first -> ▁ a ba; then ▁a (-4) -> ▁a ba; ▁aba is no piece.
        QCOMPARE(idsText(t.encode("aba", false)), QString("8 7"));
        // ▁ a b: ab (-3) before ▁a (-4) -> ▁ ab -> ▁ab (-1).
        QCOMPARE(idsText(t.encode("ab", false)), QString("9"));
    }

    // Hand-worked: a merge into an unused piece is undone at the end, but lets its parts
    // merge further meanwhile; user-defined pieces are taken whole and never merged.
    void honoursUnusedAndUserDefinedPieces() {
        Vocabulary v = handMade(
            {{"a", -5}, {"b", -6}, {"c", -7}, {"ab", -1}, {"abc", -2}, {"<sep>", 0}, {"c<", -1}},
            {PieceKind::Normal, PieceKind::Normal, PieceKind::Normal, PieceKind::Unused,
             PieceKind::Normal, PieceKind::UserDefined, PieceKind::Normal});
        v.addSpacePrefix = false;
        const VocabularyTokenizer t(std::move(v), "hand");
        QCOMPARE(idsText(t.encode("ab", false)), QString("3 4"));         // ab unused -> a b
        QCOMPARE(idsText(t.encode("abc", false)), QString("7"));          // ab then abc
        QCOMPARE(idsText(t.encode("c<sep>a", false)), QString("5 8 3"));  // never c<
        QCOMPARE(t.decode({5, 8, 3}), std::string("c<sep>a"));
    }

    // Hand-worked: without byte pieces an unknown character is the unknown piece; with some
    // byte pieces missing, those bytes are.
    void fallsBackToUnknownOrBytes() {
        const VocabularyTokenizer plain(handMade({{"\xE2\x96\x81", -1}, {"a", -2}}), "hand");
        QCOMPARE(idsText(plain.encode("a\xC3\xA9", false)), QString("3 4 0"));
        QCOMPARE(plain.decode({3, 4, 0}), std::string("a \xE2\x81\x87 "));
        const VocabularyTokenizer bytes(
            handMade({{"\xE2\x96\x81", -1}, {"a", -2}, {"<0xC3>", 0}},
                     {PieceKind::Normal, PieceKind::Normal, PieceKind::Byte}),
            "hand");
        QCOMPARE(idsText(bytes.encode("\xC3\xA9", false)), QString("3 5 0"));
    }

    void refusesInconsistentVocabularies_data() {
        QTest::addColumn<int>("defect");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << 0 << "vocabulary is empty";
        QTest::newRow("scores missing") << 1 << "pieces but 3 scores";
        QTest::newRow("BOS out of range") << 2 << "BOS id 9 is outside";
        QTest::newRow("misspelt byte") << 3 << "token 3 is marked as a byte";
        QTest::newRow("unknown kind") << 4 << "token 3 has an unknown type 9";
        QTest::newRow("negative unknown id") << 5 << "unknown-token id -2 is outside";
    }
    void refusesInconsistentVocabularies() {
        QFETCH(int, defect);
        QFETCH(QString, message);
        Vocabulary v = handMade({{"a", 0}});
        if (defect == 0) v = Vocabulary{};
        if (defect == 1) v.scores.pop_back();
        if (defect == 2) v.bos = 9;
        if (defect == 3) v.kinds[3] = PieceKind::Byte;
        if (defect == 4) v.kinds[3] = static_cast<PieceKind>(9);
        if (defect == 5) v.unknown = -2;
        try {
            VocabularyTokenizer t(std::move(v), "bad.gguf");
            QFAIL("accepted an inconsistent vocabulary");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith("bad.gguf: "), e.what());
            QVERIFY2(QString(e.what()).contains(message), e.what());
        }
    }

    // A NaN score must not break the merge order; the piece merges last.
    void toleratesANanScore() {
        const VocabularyTokenizer t(handMade({{"a", -1},
                                              {"b", -1},
                                              {"ab", std::numeric_limits<float>::quiet_NaN()},
                                              {"ba", -3}}),
                                    "hand");
        // ▁ has no piece: the unknown one. Then a ba b.
        QCOMPARE(idsText(t.encode("abab", false)), QString("0 3 6 4"));
    }
};

QTEST_APPLESS_MAIN(TokenizerTest)
#include "tokenizer_test.moc"
