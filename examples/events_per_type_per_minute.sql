-- Events per type per minute: what the shop's visitors did in each minute (views, carts, removals
-- from the cart, wishlist adds, purchases), the 60 most recent minutes that have events, newest
-- first. Minutes are in the session's time zone (SET timezone to change it).
SELECT date_trunc('minute', event_time) AS minute,
       count(*) FILTER (WHERE event_type = 'view') AS views,
       count(*) FILTER (WHERE event_type = 'add_to_cart') AS add_to_cart,
       count(*) FILTER (WHERE event_type = 'remove_from_cart') AS remove_from_cart,
       count(*) FILTER (WHERE event_type = 'wishlist') AS wishlist,
       count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
       count(*) AS events
FROM user_events
GROUP BY 1
ORDER BY minute DESC
LIMIT 60;
