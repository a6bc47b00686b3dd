// llama2.c's tokenizer.bin: aidreams260K's tok512.bin read into a Vocabulary and tokenized
// with the ids llama2.c's own encode() gives (worked out by a naive O(n^2) transcription of
// its merge loop in Python, independent of this code), and hostile files refused with one
// line naming the file.
#include "core/io/llama2c_tokenizer.h"

#include <QtTest>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/llm/vocabulary_tokenizer.h"
#include "tests/support/test_paths.h"

using namespace cwb;

namespace {

std::string tok512() { return test::llmFixture("aidreams260K/tok512.bin"); }

QString idsText(const std::vector<int>& ids) {
    QStringList parts;
    for (int id : ids) parts << QString::number(id);
    return parts.join(' ');
}

void putInt32(std::string& bytes, std::int32_t v) {
    char raw[4];
    std::memcpy(raw, &v, 4);  // little-endian machines only, as the fixtures
    bytes.append(raw, 4);
}
void putFloat(std::string& bytes, float v) {
    std::int32_t bits;
    std::memcpy(&bits, &v, 4);
    putInt32(bytes, bits);
}
void putToken(std::string& bytes, float score, const std::string& piece) {
    putFloat(bytes, score);
    putInt32(bytes, static_cast<std::int32_t>(piece.size()));
    bytes += piece;
}

// A well-formed three-token file: "<unk>", "\n<s>\n", "\n</s>\n".
std::string smallFile() {
    std::string bytes;
    putInt32(bytes, 7);
    putToken(bytes, 0, "<unk>");
    putToken(bytes, 0, "\n<s>\n");
    putToken(bytes, 0, "\n</s>\n");
    return bytes;
}

}  // namespace

class Llama2cTokenizerTest : public QObject {
    Q_OBJECT
private slots:
    void readsTok512() {
        const Vocabulary v = readLlama2cTokenizer(tok512(), 512);
        QCOMPARE(v.pieces.size(), std::size_t(512));
        QCOMPARE(v.scores.size(), std::size_t(512));
        QCOMPARE(v.kinds.size(), std::size_t(512));
        QCOMPARE(v.pieces[0], std::string("<unk>"));
        QCOMPARE(v.pieces[1], std::string("<s>"));
        QCOMPARE(v.pieces[2], std::string("</s>"));
        QCOMPARE(v.kinds[0], PieceKind::Unknown);
        QCOMPARE(v.kinds[1], PieceKind::Control);
        QCOMPARE(v.kinds[2], PieceKind::Control);
        QCOMPARE(v.unknown, 0);
        QCOMPARE(v.bos, 1);
        QCOMPARE(v.eos, 2);
        // Bytes at 3 + b, as llama2.c's encode assumes.
        for (int b : {0, 0x0A, 0x41, 0xFF}) {
            QCOMPARE(v.kinds[3 + b], PieceKind::Byte);
            QCOMPARE(bytePieceValue(v.pieces[3 + b]), b);
        }
        // Read with Python's struct from the file: token 368 is " Th" (score -109), 429 " ".
        QCOMPARE(v.pieces[368], std::string("\xE2\x96\x81Th"));
        QCOMPARE(v.pieces[429], std::string("\xE2\x96\x81"));
        QCOMPARE(v.kinds[368], PieceKind::Normal);
        QCOMPARE(v.scores[368], -109.0f);
        QVERIFY(v.addSpacePrefix);
    }

    // The prompt and the text run.c generates from it (EXPECTED.md), with BOS as run.c
    // encodes a prompt; ids from a direct Python transcription of llama2.c's encode().
    void encodesAsLlama2c_data() {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("ids");
        QTest::newRow("prompt") << QByteArray("The dream") << "1 368 430 281 269 435 447";
        QTest::newRow("continuation")
            << QByteArray(
                   "The dream align, as I seep into the void. Classification whispers "
                   "secrets, a gentle hum of probability unfolding.")
            << "1 368 430 281 269 435 447 262 274 359 446 299 303 266 430 430 445 362 312 429 "
               "452 437 361 448 429 465 438 340 431 338 353 341 325 266 386 269 293 446 262 "
               "421 392 275 280 302 450 405 403 399 422 448";
    }
    void encodesAsLlama2c() {
        QFETCH(QByteArray, text);
        QFETCH(QString, ids);
        const VocabularyTokenizer t(readLlama2cTokenizer(tok512(), 512), tok512());
        const std::string s(text.constData(), std::size_t(text.size()));
        const std::vector<int> encoded = t.encode(s, true);
        QCOMPARE(idsText(encoded), ids);
        QCOMPARE(t.decode(encoded), s);
        std::string streamed;  // as run.c prints: each piece after the one before
        for (std::size_t i = 1; i < encoded.size(); ++i)
            streamed += t.tokenText(encoded[i - 1], encoded[i]);
        QCOMPARE(streamed, s);
    }

    // Characters tok512 lacks become their bytes (llama2.c: byte + 3).
    void fallsBackToBytes() {
        const VocabularyTokenizer t(readLlama2cTokenizer(tok512(), 512), tok512());
        const std::vector<int> ids = t.encode("\xE2\x82\xAC", false);  // "€"
        QCOMPARE(idsText(ids), QString("429 %1 %2 %3").arg(3 + 0xE2).arg(3 + 0x82).arg(3 + 0xAC));
        QCOMPARE(t.decode(ids), std::string("\xE2\x82\xAC"));
    }

    void readsAllTokensWithoutACount() {
        QCOMPARE(readLlama2cTokenizer(tok512(), -1).pieces.size(), std::size_t(512));
        const std::string small = smallFile();
        const Vocabulary v = parseLlama2cTokenizer(
            reinterpret_cast<const std::uint8_t*>(small.data()), small.size(), "small.bin", -1);
        QCOMPARE(v.pieces, (std::vector<std::string>{"<unk>", "<s>", "</s>"}));
    }

    void refusesHostileFiles_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("tokens");
        QTest::addColumn<QString>("message");
        const std::string good = smallFile();
        const auto row = [](const char* name, const std::string& bytes, int tokens,
                            const char* message) {
            QTest::newRow(name) << QByteArray(bytes.data(), qsizetype(bytes.size())) << tokens
                                << message;
        };
        row("empty", "", 3, "0 bytes is too short");
        row("cut in the first length", good.substr(0, 2), 3, "too short");
        row("cut inside a header", good.substr(0, 4 + 6), 3, "ends inside token 0's score");
        row("cut inside a piece", good.substr(0, good.size() - 2), 3,
            "token 2 claims 6 bytes at byte 38 but only 4 remain; the file is truncated");
        row("fewer tokens than the checkpoint", good, 4,
            "holds 3 tokens but the checkpoint's vocabulary has 4");
        row("more tokens than the checkpoint", good, 2,
            "holds more than 2 tokens but the checkpoint's vocabulary has 2");
        row("tok512 for another checkpoint", test::readBytes(tok512()), 32000,
            "holds 512 tokens but the checkpoint's vocabulary has 32000");
        std::string negative;
        putInt32(negative, 7);
        putToken(negative, 0, "<unk>");
        putFloat(negative, 0);
        putInt32(negative, -5);
        row("negative length", negative, 3, "token 1 has a negative length -5 (byte 21)");
        std::string huge;
        putInt32(huge, std::numeric_limits<std::int32_t>::max());
        putFloat(huge, 0);
        putInt32(huge, std::numeric_limits<std::int32_t>::max());
        huge += "abc";
        row("huge length", huge, 3, "token 0 claims 2147483647 bytes at byte 12 but only 3");
        std::string longer;
        putInt32(longer, 2);
        putToken(longer, 0, "<unk>");
        row("longer than the maximum", longer, -1,
            "token 0 is 5 bytes long, more than the file's maximum token length 2");
        std::string negativeMax;
        putInt32(negativeMax, -1);
        row("negative maximum", negativeMax + good.substr(4), 3,
            "maximum token length is negative");
        std::string nan;
        putInt32(nan, 7);
        putToken(nan, std::numeric_limits<float>::quiet_NaN(), "<unk>");
        row("NaN score", nan, -1, "token 0 has a score that is not a finite number");
        row("no tokens", good.substr(0, 4), -1, "holds no tokens");
        row("zero vocabulary", good, 0, "vocabulary size is 0");
    }
    void refusesHostileFiles() {
        QFETCH(QByteArray, bytes);
        QFETCH(int, tokens);
        QFETCH(QString, message);
        const std::string path = test::tempDir() + "/hostile-tokenizer.bin";
        test::writeBytes(path, bytes.toStdString());
        try {
            readLlama2cTokenizer(path, tokens);
            QFAIL("accepted a hostile tokenizer.bin");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.startsWith(QString::fromStdString(path + ": ")), e.what());
            QVERIFY2(what.contains(message), e.what());
            QVERIFY2(!what.contains('\n'), e.what());
        }
    }

    void refusesAMissingFile() {
        const std::string path = test::tempDir() + "/no-such-tokenizer.bin";
        try {
            readLlama2cTokenizer(path, 512);
            QFAIL("no error");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).startsWith(QString::fromStdString(path)), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(Llama2cTokenizerTest)
#include "llama2c_tokenizer_test.moc"
