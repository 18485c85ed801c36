// BACKUP: an online backup of the data dir (core/backup.h), for the admin
// identity only, so a cron job can take one over the protocol or HTTP
// without shell access to the data dir. docs/backup.md is the guide.

#include <string>

#include "commands/context.h"
#include "commands/registry.h"
#include "core/backup.h"
#include "protocol/errors.h"

namespace tally::commands {
namespace {

using protocol::CommandArgs;
using protocol::CommandContext;
using protocol::ErrorCode;
using protocol::ReplySink;

// BACKUP [dir] -> {dir, files, bytes, ms}
// Runs on the calling connection's thread for as long as the copy takes
// (flush, hard links, then one read of every file for the manifest's
// checksums); writes from other connections go on meanwhile.
void Backup(CommandContext& ctx, CommandArgs args, ReplySink& reply) {
  if (args.size() > 2) return reply.SendError(protocol::errors::UnexpectedArgument(args[2], "BACKUP", "[dir]"));
  const std::string dir = args.size() == 2
                              ? std::string(args[1])
                              : core::DefaultBackupDir(ctx.server.config.data_dir, ctx.engine.clock().NowMs());
  auto taken = core::TakeBackup(ctx.engine, dir, ctx.server.config.version);
  if (!taken.ok()) {
    const bool bad_dir = taken.status().code() == storage::Status::Code::kInvalidArgument;
    return reply.SendError(bad_dir ? ErrorCode::kInvalidBackupDir : ErrorCode::kBackupFailed,
                           "backup failed: " + taken.status().message());
  }
  const core::BackupResult& result = taken.value();
  reply.SendMap(4);
  reply.SendBulk("dir");
  reply.SendBulk(result.dir);
  reply.SendBulk("files");
  reply.SendInteger(static_cast<int64_t>(result.files));
  reply.SendBulk("bytes");
  reply.SendInteger(static_cast<int64_t>(result.bytes));
  reply.SendBulk("ms");
  reply.SendInteger(result.duration_ms);
}

constexpr ErrorCode kBackupErrors[] = {ErrorCode::kSyntax, ErrorCode::kInvalidBackupDir, ErrorCode::kBackupFailed};

const protocol::CommandSpec kSpecs[] = {
    {"BACKUP", -1, protocol::flags::kAdmin | protocol::flags::kAdminOnly | protocol::flags::kNoScript, "server",
     "[dir]",
     "Writes a consistent copy of the data dir into dir (absolute; new or empty; default "
     "<data_dir>/backups/<UTC time>) while writes go on: every write acknowledged before it started is in the copy. "
     "Replies dir, files, bytes and ms. Admin only.",
     Backup, kBackupErrors},
};

}  // namespace

std::span<const protocol::CommandSpec> BackupCommands() { return kSpecs; }

}  // namespace tally::commands
