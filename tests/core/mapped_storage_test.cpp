// A safetensors checkpoint larger than the memory the process may allocate opens through the
// mapped storage: the test caps its own heap (RLIMIT_DATA, which read-only file mappings do
// not count against, but a heap copy would), builds a 4 GiB sparse file with a small tensor
// at its start and one at its end, opens it through loadModel and reads both tensors back.
// The values checked are the ones the test wrote; peak resident memory stays under 100 MB.
#include <QtTest>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/io/model_loader.h"
#include "core/util/mapped_file.h"
#include "tests/support/data_limit.h"
#include "tests/support/test_paths.h"

using namespace cwb;
using cwb::test::DataLimit;
using cwb::test::peakResidentKiB;

namespace {

constexpr std::uint64_t kMiB = std::uint64_t(1) << 20;
constexpr std::uint64_t kDataLimit = 200 * kMiB;
// The middle tensor: 65536 x 32768 bf16 = 4 GiB, a hole in the file that is never read.
constexpr std::int64_t kMiddleRows = 65536, kMiddleCols = 32768;
constexpr std::uint64_t kMiddleBytes = std::uint64_t(kMiddleRows) * kMiddleCols * 2;
constexpr int kEdge = 16;  // floats in the first and in the last tensor

std::string littleEndian64(std::uint64_t v) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}

std::string floatBytes(const std::vector<float>& values) {
    std::string out(values.size() * 4, '\0');
    std::memcpy(out.data(), values.data(), out.size());
    return out;
}

}  // namespace

class MappedStorageTest : public QObject {
    Q_OBJECT
    std::string m_path;
    std::vector<float> m_first, m_last;

private slots:
    void initTestCase() {
        for (int i = 0; i < kEdge; ++i) {
            m_first.push_back(0.25f * static_cast<float>(i) - 1.5f);
            m_last.push_back(1000.f + 3.f * static_cast<float>(i));
        }
        const std::uint64_t firstBytes = kEdge * 4, middleEnd = firstBytes + kMiddleBytes;
        std::string header =
            R"({"first":{"dtype":"F32","shape":[16],"data_offsets":[0,64]},)"
            R"("middle":{"dtype":"BF16","shape":[65536,32768],"data_offsets":[64,)" +
            std::to_string(middleEnd) +
            R"(]},"last":{"dtype":"F32","shape":[16],"data_offsets":[)" +
            std::to_string(middleEnd) + "," + std::to_string(middleEnd + firstBytes) + "]}}";
        header.append((8 - header.size() % 8) % 8, ' ');  // as writers pad it: data aligned
        const std::uint64_t dataStart = 8 + header.size();
        const std::uint64_t size = dataStart + middleEnd + firstBytes;

        m_path = test::tempDir() + "/larger_than_memory.safetensors";
        test::writeBytes(m_path, littleEndian64(header.size()) + header + floatBytes(m_first));
        std::error_code ec;
        std::filesystem::resize_file(m_path, size, ec);
        if (ec) QSKIP("the temp file system cannot hold a sparse 4 GiB file");
        std::fstream file(m_path, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(dataStart + middleEnd));
        const std::string last = floatBytes(m_last);
        file.write(last.data(), static_cast<std::streamsize>(last.size()));
        QVERIFY(file.good());
    }

    void cleanupTestCase() { std::filesystem::remove_all(test::tempDir()); }

    void opensWithoutCopying() {
        QVERIFY(std::filesystem::file_size(m_path) > 4 * 1024 * kMiB);
        const long before = peakResidentKiB();
        {
            const DataLimit limit(kDataLimit);
            Model model;
            try {
                model = loadModel(m_path);
            } catch (const std::exception& e) {
                QFAIL(e.what());
            }
            QCOMPARE(model.tensors.size(), std::size_t(3));
            const Tensor& first = model.tensors[0].tensor;
            const Tensor& middle = model.tensors[1].tensor;
            const Tensor& last = model.tensors[2].tensor;
            QCOMPARE(model.tensors[2].name, std::string("last"));
            QCOMPARE(middle.byteSize(), std::size_t(kMiddleBytes));
            QCOMPARE(middle.dtype(), DType::BF16);
            for (int i = 0; i < kEdge; ++i) {
                QCOMPARE(first.floats()[i], m_first[static_cast<std::size_t>(i)]);
                QCOMPARE(last.floats()[i], m_last[static_cast<std::size_t>(i)]);
            }
            // Views into one mapping, not copies: the last tensor lies 4 GiB after the first.
            QCOMPARE(static_cast<std::uint64_t>(last.bytes() - first.bytes()), 64 + kMiddleBytes);
            // A byte from the middle of the hole reads as zero.
            QCOMPARE(std::to_integer<int>(middle.bytes()[kMiddleBytes / 2]), 0);
        }
        const long after = peakResidentKiB();
        qInfo("peak resident memory %ld KiB before opening, %ld KiB after", before, after);
        QVERIFY(after - before < static_cast<long>(100 * 1024));
#ifndef CWB_SANITIZER_BUILD
        QVERIFY(after < static_cast<long>(100 * 1024));
#endif
    }
};

QTEST_APPLESS_MAIN(MappedStorageTest)
#include "mapped_storage_test.moc"
