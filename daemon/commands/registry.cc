#include "commands/registry.h"

#include "commands/transaction.h"

namespace tally::commands {

const protocol::CommandTable& BuildCommandTable() {
  static const protocol::CommandTable table = [] {
    protocol::CommandTable t;
    t.Register(ServerCommands());
    t.Register(KeyspaceCommands());
    t.Register(TransactionCommands());
    t.Register(HyperLogLogCommands());
    t.Register(HashCommands());
    t.Register(SortedSetCommands());
    t.Register(FlushCommands());
    t.Register(CounterCommands());
    t.Register(FeedCommands());
    t.Register(QuotaCommands());
    t.Register(MeterCommands());
    t.Register(PubSubCommands());
    t.Register(UniqueCommands());
    t.Register(BackupCommands());
    t.Register(ScriptCommands());
    return t;
  }();
  return table;
}

}  // namespace tally::commands
