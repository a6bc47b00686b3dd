// Tensor storage, dtype conversion and shape helpers, against hand-worked values.
#include "core/model/tensor.h"

#include <QtTest>
#include <cstring>

#include "core/error.h"

using namespace cwb;

class TensorTest : public QObject {
    Q_OBJECT
private slots:
    void shapesPrintLikeNumpy() {
        QCOMPARE(shapeToString({3, 3, 1, 32}), std::string("(3, 3, 1, 32)"));
        QCOMPARE(shapeToString({10}), std::string("(10,)"));
        QCOMPARE(shapeElements({}), std::int64_t(1));
    }

    void halfAndBfloat16ConvertExactly_data() {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<int>("bits");
        QTest::addColumn<float>("expected");
        QTest::newRow("f16 one") << int(DType::F16) << 0x3c00 << 1.0f;
        QTest::newRow("f16 -2") << int(DType::F16) << 0xc000 << -2.0f;
        QTest::newRow("f16 max") << int(DType::F16) << 0x7bff << 65504.0f;
        QTest::newRow("f16 smallest subnormal")
            << int(DType::F16) << 0x0001 << 5.960464477539063e-8f;
        QTest::newRow("bf16 one") << int(DType::BF16) << 0x3f80 << 1.0f;
        QTest::newRow("bf16 -1.5") << int(DType::BF16) << 0xbfc0 << -1.5f;
    }
    void halfAndBfloat16ConvertExactly() {
        QFETCH(int, dtype);
        QFETCH(int, bits);
        QFETCH(float, expected);
        Tensor t = Tensor::zeros({1}, DType(dtype));
        const std::uint16_t raw = static_cast<std::uint16_t>(bits);
        std::memcpy(const_cast<std::byte*>(t.bytes()), &raw, 2);
        QCOMPARE(t.toFloatVector().at(0), expected);
    }

    void integersConvertByValue() {
        Tensor t = Tensor::zeros({2}, DType::I8);
        const std::int8_t raw[2] = {-128, 127};
        std::memcpy(const_cast<std::byte*>(t.bytes()), raw, 2);
        QCOMPARE(t.toFloatVector(), (std::vector<float>{-128.f, 127.f}));
    }

    void floatsRefusesOtherTypes() {
        Tensor t = Tensor::zeros({4}, DType::U8);
        QVERIFY_THROWS_EXCEPTION(Error, t.floats());
    }

    void cloneIsDeep() {
        Tensor a = Tensor::fromFloats({2}, {1.f, 2.f});
        Tensor b = a.clone();
        b.mutableFloats()[0] = 5.f;
        QCOMPARE(a.floats()[0], 1.f);
    }
};

QTEST_APPLESS_MAIN(TensorTest)
#include "tensor_test.moc"
