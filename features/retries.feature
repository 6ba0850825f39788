@retries
Feature: Retries of API calls
  The API client retries GET, PUT and DELETE at most twice (limit 2) on 408, 429, 500, 502, 503 and 504.

  @RT-001
  Scenario Outline: A retried method succeeds after transient failures
    Given I am signed in
    And the API fails the next <failures> <method> <downstream> with <status>
    When I fetch <method> <route>
    Then the response status is 200
    And the API received <attempts> <method> <downstream>, each with my bearer token

    Examples:
      | method | route            | downstream   | status | failures | attempts |
      | GET    | /api/schedules   | /schedules   | 408    | 1        | 2        |
      | GET    | /api/schedules   | /schedules   | 429    | 2        | 3        |
      | GET    | /api/schedules   | /schedules   | 500    | 2        | 3        |
      | GET    | /api/schedules   | /schedules   | 502    | 1        | 2        |
      | GET    | /api/schedules   | /schedules   | 503    | 2        | 3        |
      | GET    | /api/schedules   | /schedules   | 504    | 2        | 3        |
      | PUT    | /api/schedules/5 | /schedules/5 | 408    | 2        | 3        |
      | PUT    | /api/schedules/5 | /schedules/5 | 429    | 1        | 2        |
      | PUT    | /api/schedules/5 | /schedules/5 | 500    | 2        | 3        |
      | PUT    | /api/schedules/5 | /schedules/5 | 502    | 2        | 3        |
      | PUT    | /api/schedules/5 | /schedules/5 | 503    | 1        | 2        |
      | PUT    | /api/schedules/5 | /schedules/5 | 504    | 2        | 3        |
      | DELETE | /api/schedules/5 | /schedules/5 | 408    | 2        | 3        |
      | DELETE | /api/schedules/5 | /schedules/5 | 429    | 2        | 3        |
      | DELETE | /api/schedules/5 | /schedules/5 | 500    | 1        | 2        |
      | DELETE | /api/schedules/5 | /schedules/5 | 502    | 2        | 3        |
      | DELETE | /api/schedules/5 | /schedules/5 | 503    | 2        | 3        |
      | DELETE | /api/schedules/5 | /schedules/5 | 504    | 1        | 2        |

  @RT-002
  Scenario Outline: Three failures reach the user as an error
    Given I am signed in
    And the API fails the next 3 <method> <downstream> with <status>
    When I fetch <method> <route>
    Then I see an error
    And the API received 3 <method> <downstream>, each with my bearer token

    Examples:
      | method | route            | downstream   | status |
      | GET    | /api/schedules   | /schedules   | 503    |
      | PUT    | /api/schedules/5 | /schedules/5 | 500    |
      | DELETE | /api/schedules/5 | /schedules/5 | 504    |

  @RT-003
  Scenario Outline: POST is never retried
    Given I am signed in
    And the API fails the next 2 POST /schedules with <status>
    When I fetch POST /api/schedules
    Then I see an error
    And the API received 1 POST /schedules, each with my bearer token

    Examples:
      | status |
      | 503    |
      | 500    |
      | 429    |

  @RT-004
  Scenario Outline: Other statuses are never retried
    Given I am signed in
    And the API fails the next 2 <method> <downstream> with <status>
    When I fetch <method> <route>
    Then I see an error
    And the API received 1 <method> <downstream>, each with my bearer token

    Examples:
      | method | route            | downstream   | status |
      | GET    | /api/schedules   | /schedules   | 400    |
      | GET    | /api/schedules   | /schedules   | 401    |
      | GET    | /api/schedules   | /schedules   | 403    |
      | GET    | /api/schedules   | /schedules   | 404    |
      | GET    | /api/schedules   | /schedules   | 501    |
      | PUT    | /api/schedules/5 | /schedules/5 | 404    |
      | DELETE | /api/schedules/5 | /schedules/5 | 400    |

  @RT-005
  Scenario: The wait grows between attempts
    Given I am signed in
    And the API fails the next 2 GET /schedules with 503
    When I fetch GET /api/schedules
    Then the API received 3 GET /schedules, each with my bearer token
    And the waits between API attempts grow

  @RT-006
  Scenario Outline: Retry-After is honoured
    Given I am signed in
    And the API fails the next 1 GET /schedules with <status> and Retry-After 1
    When I fetch GET /api/schedules
    Then the response status is 200
    And the API received 2 GET /schedules, each with my bearer token
    And the API attempts were at least 1 second apart

    Examples:
      | status |
      | 429    |
      | 503    |

  @RT-007
  Scenario: The server-rendered page retries like the API routes
    Given I am signed in
    And the API fails the next 2 GET /schedules with 503
    When I open /schedules
    Then I see the schedules page
    And the API received 3 GET /schedules, each with my bearer token
