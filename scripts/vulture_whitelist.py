"""Names vulture cannot see used: table columns, pydantic settings, template fields, registered
handlers. Made with `vulture server sync --make-whitelist`; keep it short and true."""

create_app  # unused function (server/app.py:71)
_migrate  # unused function (server/cli/main.py:15)
_serve  # unused function (server/cli/main.py:22)
model_config  # unused variable (server/commands/conflicts.py:21)
_.resolution  # unused attribute (server/commands/conflicts.py:45)
_.resolved_by  # unused attribute (server/commands/conflicts.py:46)
model_config  # unused variable (server/commands/demands.py:103)
_.closed_at  # unused attribute (server/commands/demands.py:545)
_.rating_comment  # unused attribute (server/commands/demands.py:652)
_.closed_at  # unused attribute (server/commands/demands.py:660)
model_config  # unused variable (server/commands/households.py:24)
model_config  # unused variable (server/commands/households.py:44)
model_config  # unused variable (server/commands/households.py:60)
model_config  # unused variable (server/commands/residents.py:29)
model_config  # unused variable (server/commands/residents.py:42)
model_config  # unused variable (server/commands/residents.py:53)
_.id_masked  # unused attribute (server/commands/residents.py:101)
_.id_masked  # unused attribute (server/commands/residents.py:105)
model_config  # unused variable (server/commands/travel_cards.py:76)
model_config  # unused variable (server/commands/travel_cards.py:86)
model_config  # unused variable (server/commands/travel_cards.py:94)
model_config  # unused variable (server/commands/travel_cards.py:106)
model_config  # unused variable (server/commands/travel_cards.py:116)
model_config  # unused variable (server/commands/travel_cards.py:124)
model_config  # unused variable (server/commands/travel_cards.py:130)
model_config  # unused variable (server/commands/travel_cards.py:138)
model_config  # unused variable (server/commands/travel_cards.py:146)
model_config  # unused variable (server/commands/travel_cards.py:153)
model_config  # unused variable (server/commands/visits.py:33)
_.isolation_level  # unused attribute (server/db.py:193)
resolution  # unused variable (server/models/conflict.py:30)
resolved_by  # unused variable (server/models/conflict.py:31)
rating_comment  # unused variable (server/models/demand.py:56)
closed_at  # unused variable (server/models/demand.py:61)
floating  # unused variable (server/models/household.py:17)
rental  # unused variable (server/models/household.py:18)
vacant  # unused variable (server/models/household.py:23)
moved_out  # unused variable (server/models/household.py:24)
id_masked  # unused variable (server/models/household.py:66)
sent_at  # unused variable (server/models/push.py:64)
claimed_by  # unused variable (server/models/push.py:88)
finished_at  # unused variable (server/models/push.py:90)
delivery_id  # unused variable (server/models/push.py:101)
updated_by  # unused variable (server/models/state.py:113)
service  # unused variable (server/models/visit.py:17)
follow_up  # unused variable (server/models/visit.py:18)
nobody_home  # unused variable (server/models/visit.py:23)
widget  # unused variable (server/preferences.py:58)
widget  # unused variable (server/preferences.py:84)
widget  # unused variable (server/preferences.py:108)
widget  # unused variable (server/preferences.py:156)
widget  # unused variable (server/preferences.py:198)
_.updated_by  # unused attribute (server/preferences.py:279)
_.sent_at  # unused attribute (server/push/outbox.py:238)
_.claimed_by  # unused attribute (server/push/outbox.py:266)
delivery_id  # unused variable (server/push/sender.py:66)
_.claimed_by  # unused attribute (server/push/sender.py:261)
_.finished_at  # unused attribute (server/push/sender.py:265)
subject_url  # unused variable (server/queries/conflicts.py:18)
field_name  # unused variable (server/queries/demands.py:59)
median_accept_hours  # unused variable (server/queries/demands.py:284)
median_resolve_hours  # unused variable (server/queries/demands.py:285)
_.satisfaction_rate  # unused property (server/queries/demands.py:293)
why  # unused variable (server/queries/grid_suggestion.py:30)
_.prev_query  # unused property (server/queries/households.py:107)
_.next_query  # unused property (server/queries/households.py:111)
consent_text  # unused variable (server/queries/travel_cards.py:225)
open_application  # unused variable (server/queries/travel_cards.py:264)
_.queue  # unused method (sync/client.py:54)
conflict_resolve  # unused function (sync/mutations/conflicts.py:13)
travel_card_update  # unused function (sync/mutations/travel_cards.py:20)
visit_record  # unused function (sync/mutations/visits.py:14)
server_text  # unused variable (server/queries/conflicts.py:25), read by templates/conflicts/list.html
client_text  # unused variable (server/queries/conflicts.py:26), read by templates/conflicts/list.html
card_tier  # unused variable (server/queries/households.py:237), read by templates/households/_partials.html
open_card  # unused variable (server/queries/households.py:238), read by templates/households/_partials.html
due_for  # unused function (server/queries/visit_tasks.py:89), the server's due list the office and the phone's tests compare with (issue 17)
rule_ids  # unused variable (server/workflows/visit_tasks.py:67), which rules made a task, for the task screens (issue 17)
_.is_overdue  # unused method (server/workflows/visit_tasks.py:72), for the 工作台's overdue group (issue 17)
tasks_for  # unused function (server/queries/tasks.py:22), the tasks the phone must show, which the cross-language and 工作台 tests compare with (issue 17)
rows_done  # unused variable (server/models/ledger_import.py), read by templates/ledger/import.html (issue 18)
rows_total  # unused variable (server/models/ledger_import.py), read by templates/ledger/import.html
preview  # unused variable (server/models/ledger_import.py), read by templates/ledger/import.html
updated  # unused variable (server/ledger/imports.py Counts), summed and shown through as_dict()
unchanged  # unused variable (server/ledger/imports.py Counts), summed and shown through as_dict()
households_added  # unused variable (server/ledger/imports.py Counts), summed and shown through as_dict()
households_updated  # unused variable (server/ledger/imports.py Counts), summed and shown through as_dict()
_.font  # unused attribute (server/ledger/workbook.py), openpyxl reads it when saving
urged  # unused variable (server/queries/demands.py:303), read by templates/demands/dashboard.html
unknown_year  # unused variable (server/queries/demands.py:304), read by templates/demands/dashboard.html
rating_channels  # unused variable (server/queries/demands.py:313), read by templates/demands/dashboard.html
# The service guide's categories: codes the forms post and the labels name (issue 24).
_.medical_insurance  # unused variable (server/models/service_item.py)
_.civil_affairs  # unused variable (server/models/service_item.py)
_.household_registration  # unused variable (server/models/service_item.py)
_.disability  # unused variable (server/models/service_item.py)
_.elderly  # unused variable (server/models/service_item.py)
_.employment  # unused variable (server/models/service_item.py)
_.housing  # unused variable (server/models/service_item.py)
# Assisted applications (issue 24): columns phones and pages read, a registered mutation.
_.item_revision  # unused variable (server/models/assisted.py)
_.completed_at  # unused attribute (server/commands/assisted.py)
_.delivered_at  # unused attribute (server/commands/assisted.py)
_.consented_at  # unused variable (server/queries/assisted.py)
assisted_create  # unused function (sync/mutations/assisted.py)
notice_read  # unused function (sync/mutations/notices.py:13)
subject_type  # unused variable (server/models/notice.py:32)
subject_id  # unused variable (server/models/notice.py:33)
push_id  # unused variable (server/models/notice.py:38)
unread  # unused variable (server/queries/notices.py:30), read by templates/notices/inbox.html
channels  # unused variable (server/queries/notices.py:63), read by templates/notices/_partials.html
reachable  # unused property (server/push/reachability.py:34), read by templates/admin/index.html
last_status  # unused variable (server/models/gateway.py:39), the delivery's record for operators
last_error  # unused variable (server/models/gateway.py:40)
due_at  # unused variable (server/models/topic.py): deliberation columns shown on pages
decided_at  # unused variable (server/models/topic.py)
recorded_by  # unused variable (server/models/topic.py)
held_at  # unused variable (server/models/topic.py)
_.due_at  # unused attribute (server/commands/topics.py)
_.decided_at  # unused attribute (server/commands/topics.py)
_.recorded_by  # unused attribute (server/commands/topics.py)
_.held_at  # unused attribute (server/commands/topics.py)
topic_opinion  # unused function (sync/mutations/topics.py:13)
by_building  # unused variable (server/queries/topics.py): read by templates/topics/detail.html
topic_create  # unused function (sync/mutations/topics.py)
# The rating of an assisted application (issue 24): columns and figures the pages read.
_.rectification  # unused attribute (server/commands/assisted.py), read by templates/assisted/detail.html
_.rectified_by  # unused attribute (server/commands/assisted.py), kept for the audit of who answered
to_rectify  # unused variable (server/queries/assisted.py), read by templates/assisted/queue.html
old_app  # unused method (server/queries/devices.py Phone), read by templates/devices/list.html
not_persisted  # unused property (server/queries/devices.py Phone), read by templates/devices/list.html
oldest_days  # unused method (server/workflows/reconciliation.py Balance), read by templates/devices/list.html
from_name  # unused variable (server/models/handover.py), read by templates/handovers/list.html
released  # unused variable (server/queries/devices.py DevicesPage), read by templates/devices/list.html
below_minimum  # unused variable (server/queries/devices.py DevicesPage), read by templates/devices/list.html
awaiting_callback  # unused variable (server/queries/demands.py Board), read by templates/demands/dashboard.html
