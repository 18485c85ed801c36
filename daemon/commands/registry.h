#pragma once
// Every command family contributes its specs here; BuildCommandTable() joins
// them into the one table the RESP and HTTP front ends both dispatch through.

#include <span>

#include "protocol/command_table.h"

namespace tally::commands {

std::span<const protocol::CommandSpec> ServerCommands();       // server_commands.cc
std::span<const protocol::CommandSpec> KeyspaceCommands();     // keyspace_commands.cc
std::span<const protocol::CommandSpec> HyperLogLogCommands();  // hyperloglog_commands.cc
std::span<const protocol::CommandSpec> HashCommands();         // hash_commands.cc
std::span<const protocol::CommandSpec> SortedSetCommands();    // sorted_set_commands.cc
std::span<const protocol::CommandSpec> FlushCommands();        // flush_commands.cc
std::span<const protocol::CommandSpec> CounterCommands();      // counter_commands.cc
std::span<const protocol::CommandSpec> FeedCommands();         // feed_commands.cc
std::span<const protocol::CommandSpec> QuotaCommands();        // quota_commands.cc
std::span<const protocol::CommandSpec> MeterCommands();        // meter_commands.cc
std::span<const protocol::CommandSpec> PubSubCommands();       // pubsub_commands.cc
std::span<const protocol::CommandSpec> UniqueCommands();       // unique_commands.cc
std::span<const protocol::CommandSpec> BackupCommands();       // backup_commands.cc
std::span<const protocol::CommandSpec> ScriptCommands();       // script_commands.cc

// Builds the full table (static storage; built once).
const protocol::CommandTable& BuildCommandTable();

}  // namespace tally::commands
