// The fault-injecting leveldb::Env itself: tracking of synced sizes, losing
// unsynced data, and injected failures.

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include <leveldb/env.h>

#include "esr/persistence/testing/fault_injection_env.hpp"
#include "support/temp_dir.hpp"

namespace esr::persistence::test {
namespace {

using testing::fault_injection_env;
using testing::file_op;

class fault_env : public ::testing::Test {
protected:
  /// Creates `name` through the env and appends each of `parts`, syncing
  /// after every part for which `sync_after` is set.
  void write_file(const std::string& name, std::initializer_list<std::pair<std::string, bool>> parts) {
    leveldb::WritableFile* raw = nullptr;
    ASSERT_TRUE(env_.NewWritableFile(dir_.sub(name), &raw).ok());
    std::unique_ptr<leveldb::WritableFile> f{raw};
    for (auto& [data, sync_after] : parts) {
      ASSERT_TRUE(f->Append(data).ok());
      if (sync_after)
        ASSERT_TRUE(f->Sync().ok());
    }
    ASSERT_TRUE(f->Close().ok());
  }

  std::string read_file(const std::string& name) {
    std::string result;
    auto st = leveldb::ReadFileToString(leveldb::Env::Default(), dir_.sub(name), &result);
    return st.ok() ? result : "<" + st.ToString() + ">";
  }

  temp_dir dir_;
  fault_injection_env env_;
};

TEST_F(fault_env, dropping_unsynced_data_truncates_each_file_to_its_last_sync) {
  write_file("a", {{"synced.", true}, {"lost", false}});
  write_file("b", {{"one.", true}, {"two.", true}});
  EXPECT_EQ(env_.unsynced_bytes(), 4u);
  ASSERT_TRUE(env_.drop_unsynced_data().ok());
  EXPECT_EQ(read_file("a"), "synced.");
  EXPECT_EQ(read_file("b"), "one.two.");
  EXPECT_EQ(env_.unsynced_bytes(), 0u);
}

TEST_F(fault_env, dropping_unsynced_data_deletes_files_never_synced) {
  write_file("never", {{"data", false}});
  EXPECT_EQ(env_.tracked_files(), 1u);
  ASSERT_TRUE(env_.drop_unsynced_data().ok());
  EXPECT_FALSE(leveldb::Env::Default()->FileExists(dir_.sub("never")));
  EXPECT_EQ(env_.tracked_files(), 0u);
}

TEST_F(fault_env, a_partial_drop_keeps_a_fraction_of_the_unsynced_tail) {
  write_file("a", {{"0123", true}, {"456789ab", false}});
  write_file("never", {{"abcd", false}});
  ASSERT_TRUE(env_.drop_unsynced_data(0.5).ok());
  EXPECT_EQ(read_file("a"), "01234567");
  EXPECT_EQ(read_file("never"), "ab");
}

TEST_F(fault_env, a_renamed_file_keeps_its_sync_state) {
  write_file("tmp", {{"kept", true}, {"lost", false}});
  ASSERT_TRUE(env_.RenameFile(dir_.sub("tmp"), dir_.sub("CURRENT")).ok());
  ASSERT_TRUE(env_.drop_unsynced_data().ok());
  EXPECT_EQ(read_file("CURRENT"), "kept");
  EXPECT_FALSE(leveldb::Env::Default()->FileExists(dir_.sub("tmp")));
}

TEST_F(fault_env, fail_next_fails_exactly_that_many_appends_and_writes_nothing) {
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(dir_.sub("f"), &raw).ok());
  std::unique_ptr<leveldb::WritableFile> f{raw};
  env_.fail_next(file_op::append, 2);
  EXPECT_TRUE(f->Append("x").IsIOError());
  EXPECT_TRUE(f->Append("y").IsIOError());
  EXPECT_TRUE(f->Append("z").ok());
  EXPECT_TRUE(f->Close().ok());
  EXPECT_EQ(read_file("f"), "z");
  EXPECT_EQ(env_.injected_failures(file_op::append), 2u);
}

TEST_F(fault_env, an_injected_sync_failure_leaves_the_data_unsynced) {
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(dir_.sub("f"), &raw).ok());
  std::unique_ptr<leveldb::WritableFile> f{raw};
  ASSERT_TRUE(f->Append("a").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("b").ok());
  env_.fail_always(file_op::sync);
  EXPECT_TRUE(f->Sync().IsIOError());
  EXPECT_TRUE(f->Sync().IsIOError());
  ASSERT_TRUE(f->Close().ok());
  f.reset();
  ASSERT_TRUE(env_.drop_unsynced_data().ok());
  EXPECT_EQ(read_file("f"), "a");
}

TEST_F(fault_env, file_creation_failures_create_nothing_until_healed) {
  env_.fail_always(file_op::create);
  leveldb::WritableFile* raw = nullptr;
  EXPECT_TRUE(env_.NewWritableFile(dir_.sub("f"), &raw).IsIOError());
  EXPECT_EQ(raw, nullptr);
  EXPECT_TRUE(env_.NewAppendableFile(dir_.sub("f"), &raw).IsIOError());
  EXPECT_FALSE(leveldb::Env::Default()->FileExists(dir_.sub("f")));
  env_.heal();
  ASSERT_TRUE(env_.NewWritableFile(dir_.sub("f"), &raw).ok());
  delete raw;
}

TEST_F(fault_env, a_full_disk_fails_appends_with_no_space_left_on_device) {
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(dir_.sub("f"), &raw).ok());
  std::unique_ptr<leveldb::WritableFile> f{raw};
  env_.set_disk_full(true);
  auto st = f->Append("x");
  EXPECT_TRUE(st.IsIOError());
  EXPECT_NE(st.ToString().find("No space left on device"), std::string::npos) << st.ToString();
  EXPECT_TRUE(f->Sync().ok());
  env_.set_disk_full(false);
  EXPECT_TRUE(f->Append("y").ok());
  EXPECT_TRUE(f->Close().ok());
  EXPECT_EQ(read_file("f"), "y");
}

TEST_F(fault_env, an_appendable_file_counts_its_existing_bytes_as_synced) {
  ASSERT_TRUE(leveldb::WriteStringToFile(leveldb::Env::Default(), "old.", dir_.sub("f")).ok());
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewAppendableFile(dir_.sub("f"), &raw).ok());
  std::unique_ptr<leveldb::WritableFile> f{raw};
  ASSERT_TRUE(f->Append("new").ok());
  ASSERT_TRUE(f->Close().ok());
  f.reset();
  ASSERT_TRUE(env_.drop_unsynced_data().ok());
  EXPECT_EQ(read_file("f"), "old.");
}

} // namespace
} // namespace esr::persistence::test
