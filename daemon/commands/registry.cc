#include "commands/registry.h"

namespace tally::commands {

const protocol::CommandTable& BuildCommandTable() {
  static const protocol::CommandTable table = [] {
    protocol::CommandTable t;
    t.Register(ServerCommands());
    t.Register(KeyspaceCommands());
    t.Register(HyperLogLogCommands());
    t.Register(CounterCommands());
    t.Register(FeedCommands());
    t.Register(QuotaCommands());
    t.Register(MeterCommands());
    t.Register(PubSubCommands());
    t.Register(UniqueCommands());
    t.Register(BackupCommands());
    return t;
  }();
  return table;
}

}  // namespace tally::commands
