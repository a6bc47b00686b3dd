// llama.cpp's block formats applied by the workbench to kjv-llama-6m's bf16 weights (every
// 2-D tensor, as llama-quantize --pure): Q4_K, Q4_0, Q3_K and Q2_K against EXPECTED.md (the
// other formats are in llm_block_formats_test: one executable each stays under half a minute).
#include <QtTest>

#include "tests/support/llm_format_rows.h"

using namespace cwb;
using namespace cwb::test;

class LlmBlockFormatsLowTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { m_rows.load(); }

    void formatsMatchLlamaCpp_data() {
#ifdef CWB_SANITIZER_BUILD
        addFormatRows({"Q4_K", "Q2_K"});
#else
        addFormatRows({"Q4_K", "Q4_0", "Q3_K", "Q2_K"});
#endif
    }
    void formatsMatchLlamaCpp() {
        QFETCH(int, row);
        m_rows.check(row);
    }

private:
    FormatRowsFixture m_rows;
};

QTEST_GUILESS_MAIN(LlmBlockFormatsLowTest)
#include "llm_block_formats_low_test.moc"
