-- Active users by device and location: how many distinct users were active (had any event) in
-- the last hour of data, up to the newest event so that it also works on replayed or generated
-- history, per device and city, with their number of events. A user seen on two devices counts
-- under both. The 20 largest groups.
SELECT user_device,
       user_location,
       count(DISTINCT user_id) AS active_users,
       count(*) AS events
FROM user_events
WHERE event_time > (SELECT max(event_time) FROM user_events) - interval '1 hour'
GROUP BY user_device, user_location
ORDER BY active_users DESC, events DESC, user_device, user_location
LIMIT 20;
